import { CliError, stringOption } from '../command.ts';
import { printJson, type AdminCommand } from './admin-command.ts';

export const invite: AdminCommand = {
  name: 'invite',
  synopsis: '[--uses N]',
  summary: 'create an invite code',
  options: { uses: { type: 'string', default: '1' } },
  async run({ io, options, extra }) {
    const uses = Number(stringOption(options, 'uses'));
    if (!Number.isSafeInteger(uses) || uses < 1) throw new CliError('--uses must be a whole number of at least 1');
    printJson(io, await extra.admin.call('com.atproto.server.createInviteCode', { body: { useCount: uses } }));
  },
};
