import { requireArgs } from '../../command.ts';
import type { AdminCommand } from '../admin-command.ts';

export const deleteAccount: AdminCommand = {
  name: 'delete',
  synopsis: '<did|handle>',
  summary: 'delete an account, its repo and blobs (cannot be undone)',
  async run(input) {
    requireArgs(input, 1);
    const { admin } = input.extra;
    const did = await admin.resolveDid(input.args[0]);
    await admin.call('com.atproto.admin.deleteAccount', { body: { did } });
    input.io.out(`account ${did} deleted\n`);
  },
};
