import { requireArgs } from '../command.ts';
import type { AdminCommand } from './admin-command.ts';

export const resetPassword: AdminCommand = {
  name: 'reset-password',
  synopsis: '<did|handle> <new-password>',
  summary: "set an account's password",
  async run(input) {
    requireArgs(input, 2);
    const { admin } = input.extra;
    await admin.call('com.atproto.admin.updateAccountPassword', { body: { did: await admin.resolveDid(input.args[0]), password: input.args[1] } });
    input.io.out('password updated\n');
  },
};
