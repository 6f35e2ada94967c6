import { requireArgs, stringOption } from '../command.ts';
import { printJson, type AdminCommand } from './admin-command.ts';
import type { AdminClient } from './client.ts';

export const takedown: AdminCommand = {
  name: 'takedown',
  synopsis: '<did|handle> [--ref REF]',
  summary: 'take an account down (its sessions end)',
  options: { ref: { type: 'string' } },
  async run(input) {
    requireArgs(input, 1);
    const ref = stringOption(input.options, 'ref') ?? `cli-${new Date().toISOString()}`;
    printJson(input.io, await setTakedown(input.extra.admin, input.args[0], { applied: true, ref }));
  },
};

export async function setTakedown(admin: AdminClient, id: string, takedown: { applied: boolean; ref?: string }): Promise<unknown> {
  const did = await admin.resolveDid(id);
  return admin.call('com.atproto.admin.updateSubjectStatus', {
    body: { subject: { $type: 'com.atproto.admin.defs#repoRef', did }, takedown },
  });
}
