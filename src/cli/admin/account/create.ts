// As `pdsadmin account create` does for the official PDS: an invite from the admin (when the
// server requires one), then the ordinary createAccount, so the account is made exactly as an
// app would make it (DID registered, repo created, firehose event sequenced).
import { randomBytes } from 'node:crypto';
import { CliError, stringOption } from '../../command.ts';
import type { AdminCommand } from '../admin-command.ts';

export const createAccount: AdminCommand = {
  name: 'create',
  synopsis: '--handle HANDLE --email EMAIL [--password PASSWORD] [--json]',
  summary: 'create an account; prints its DID, handle and, when generated, its password (once)',
  options: {
    handle: { type: 'string' },
    email: { type: 'string' },
    password: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ io, options, extra, usage }) {
    const handle = stringOption(options, 'handle');
    const email = stringOption(options, 'email');
    if (!handle || !email) throw new CliError(`--handle and --email are required: usage: ${usage}`);
    const given = stringOption(options, 'password');
    const password = given ?? generatePassword();
    const { admin } = extra;
    const server = await admin.call<{ inviteCodeRequired?: boolean }>('com.atproto.server.describeServer', { auth: false });
    let inviteCode: string | undefined;
    if (server.inviteCodeRequired) {
      ({ code: inviteCode } = await admin.call<{ code: string }>('com.atproto.server.createInviteCode', { body: { useCount: 1 } }));
    }
    const created = await admin.call<{ did: string; handle: string }>('com.atproto.server.createAccount', {
      body: { handle, email, password, ...(inviteCode ? { inviteCode } : {}) },
      auth: false,
    });
    if (options.json) {
      io.out(`${JSON.stringify({ did: created.did, handle: created.handle, ...(given ? {} : { password }) }, null, 2)}\n`);
      return;
    }
    io.out(`Account created\n  DID:      ${created.did}\n  handle:   ${created.handle}\n`);
    if (!given) io.out(`  password: ${password}\n\nSave the password now: it is not stored in readable form and is not shown again.\n`);
  },
};

/** 24 characters from 18 random bytes (144 bits), base64url without - and _ for easy copying. */
export function generatePassword(): string {
  let out = '';
  while (out.length < 24) out += randomBytes(18).toString('base64url').replace(/[-_]/g, '');
  return out.slice(0, 24);
}
