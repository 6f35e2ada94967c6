import { createArrivingAccount } from '../../../../accounts/arriving-account.ts';
import { createAccount } from '../../../../accounts/create-account.ts';
import { defineMethod } from '../../../define.ts';
import { reservedKeys } from '../../../account-flows.ts';
import { sessionView } from './session-view.ts';

const MINUTE = 60_000;

/**
 * A new account, with a new did:plc; or, with `did` and a service token that DID's current PDS
 * signed for this server (`getServiceAuth`, lxm createAccount), the arriving account of a
 * migration (accounts/arriving-account.ts).
 */
export default defineMethod({
  nsid: 'com.atproto.server.createAccount',
  auth: 'optionalService',
  maxBodyBytes: 64 * 1024,
  errors: ['EmailTaken', 'InvalidEmail', 'AccountNotFound', 'AlreadyExists'],
  rateLimits: [{ name: 'create-account-ip', points: 100, windowMs: 5 * MINUTE }],
  async handler({ ctx, auth, input }) {
    const body = input as { handle: string; email?: string; password?: string; inviteCode?: string; did?: string };
    const deps = {
      config: ctx.config,
      db: ctx.db,
      accounts: ctx.accounts,
      invites: ctx.invites,
      repo: ctx.repo,
      sequencer: ctx.sequencer,
    };
    const { did } =
      body.did === undefined
        ? await createAccount({ ...deps, didCreator: ctx.didCreator }, body)
        : await createArrivingAccount(
            {
              ...deps,
              reservedKeys: reservedKeys(ctx),
              resolveHandle: (handle) => ctx.identity.handles.resolve(handle, { forceRefresh: true }),
            },
            { ...body, did: body.did },
            auth.type === 'service' ? auth.did : undefined,
          );
    const account = ctx.accounts.byDid(did)!;
    const pair = ctx.sessions.issue(did);
    const view = await sessionView(ctx, account, false);
    return { ...pair, did: view.did, handle: view.handle, ...(view.didDoc ? { didDoc: view.didDoc } : {}) };
  },
});
