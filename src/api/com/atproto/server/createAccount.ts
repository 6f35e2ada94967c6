import { createAccount } from '../../../../accounts/create-account.ts';
import { defineMethod } from '../../../define.ts';
import { sessionView } from './session-view.ts';

const MINUTE = 60_000;

export default defineMethod({
  nsid: 'com.atproto.server.createAccount',
  auth: 'none',
  maxBodyBytes: 64 * 1024,
  errors: ['EmailTaken', 'InvalidEmail', 'AccountNotFound'],
  rateLimits: [{ name: 'create-account-ip', points: 100, windowMs: 5 * MINUTE }],
  async handler({ ctx, input }) {
    const body = input as { handle: string; email?: string; password?: string; inviteCode?: string; did?: string };
    const { did } = await createAccount(
      {
        config: ctx.config,
        db: ctx.db,
        accounts: ctx.accounts,
        invites: ctx.invites,
        repo: ctx.repo,
        sequencer: ctx.sequencer,
        didCreator: ctx.didCreator,
      },
      body,
    );
    const account = ctx.accounts.byDid(did)!;
    const pair = ctx.sessions.issue(did);
    const view = sessionView(ctx, account, false);
    return { ...pair, did: view.did, handle: view.handle, didDoc: view.didDoc };
  },
});
