import { requireArgs } from '../../command.ts';
import { printJson, type AdminCommand } from '../admin-command.ts';

export const showAccount: AdminCommand = {
  name: 'show',
  synopsis: '<did|handle>',
  summary: 'show an account (also `account <did|handle>`)',
  async run(input) {
    requireArgs(input, 1);
    const { admin } = input.extra;
    printJson(input.io, await admin.call('com.atproto.admin.getAccountInfo', { query: { did: await admin.resolveDid(input.args[0]) } }));
  },
};
