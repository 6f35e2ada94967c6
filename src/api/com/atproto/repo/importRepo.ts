import { appendSyncEvent } from '../../../../accounts/account-state.ts';
import { assertAllowed } from '../../../../accounts/account-policy.ts';
import { AccountError } from '../../../../accounts/errors.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { importRepo, RepoImportError } from '../../../../repo/import/import-repo.ts';
import { InvalidRequestError } from '../../../../xrpc/index.ts';
import { accountStateDeps } from '../../../account-flows.ts';
import { defineMethod } from '../../../define.ts';

/**
 * A whole repo as a CAR: for an account arriving by migration, or a live one restoring itself.
 * The body streams to a staging file and is verified from the commit down before the account's
 * repo is replaced in one transaction; any failure leaves the account as it was. A live
 * account's imported head is re-signed as a new commit and announced with a `#sync`; an arriving
 * account's waits for its activation.
 */
export default defineMethod({
  nsid: 'com.atproto.repo.importRepo',
  auth: 'accessFull',
  accountAction: 'importRepo',
  oauth: (permissions) => permissions.assertAccount({ attr: 'repo', action: 'manage' }),
  // PDS_MAX_REPO_IMPORT_SIZE, enforced on the declared length and while the body streams
  maxBodyBytes: (ctx) => ctx.config.service.maxRepoImportSize,
  errors: ['AccountNotFound'],
  async handler({ ctx, auth, input }) {
    if (!ctx.config.service.acceptingRepoImports) throw new InvalidRequestError('Service is not accepting repo imports');
    const { did, state } = requireAccess(auth);
    const live = state === 'active';
    const result = await importRepo(
      {
        repo: ctx.repo,
        stagingDir: ctx.config.storage.blobTmpDir,
        resolveSigningKey: (subject, opts) => ctx.identity.dids.resolveSigningKey(subject, opts),
      },
      did,
      input as AsyncIterable<Uint8Array>,
      {
        // the state may have changed while the CAR streamed and was verified
        beforeWrite: () => {
          const now = ctx.accounts.stateByDid(did);
          if (now === undefined) throw new AccountError('AccountNotFound', 'Account not found');
          assertAllowed(now, 'importRepo');
          if ((now === 'active') !== live) throw new RepoImportError('The account was activated or deactivated during the import: import the repo again');
        },
        resign: live,
        afterWrite: live ? () => appendSyncEvent(accountStateDeps(ctx), did) : undefined,
      },
    );
    ctx.log.info({ did, commit: result.commit.cid, imported: result.imported, records: result.records, blocks: result.blocks, blobs: result.blobRefs }, 'repo imported');
  },
});
