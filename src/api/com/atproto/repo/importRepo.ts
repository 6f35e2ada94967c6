import { accountStatus } from '../../../../accounts/account-store.ts';
import { AccountError } from '../../../../accounts/errors.ts';
import { requireAccess } from '../../../../auth/types.ts';
import { importRepo, RepoImportError } from '../../../../repo/import/import-repo.ts';
import { InvalidRequestError } from '../../../../xrpc/index.ts';
import { defineMethod } from '../../../define.ts';

/**
 * A whole repo as a CAR, for an account moving here (or restoring itself while deactivated).
 * The body streams to a staging file and is verified from the commit down before the account's
 * repo is replaced in one transaction; any failure leaves the account as it was.
 */
export default defineMethod({
  nsid: 'com.atproto.repo.importRepo',
  auth: 'accessFull',
  // PDS_MAX_REPO_IMPORT_SIZE, enforced on the declared length and while the body streams
  maxBodyBytes: (ctx) => ctx.config.service.maxRepoImportSize,
  errors: ['AccountNotFound'],
  async handler({ ctx, auth, input }) {
    if (!ctx.config.service.acceptingRepoImports) throw new InvalidRequestError('Service is not accepting repo imports');
    const { did } = requireAccess(auth);
    const checkImportable = () => {
      const account = ctx.accounts.byDid(did);
      if (!account) throw new AccountError('AccountNotFound', 'Account not found');
      // A live repo changes only by signed commits its followers can verify; replacing it
      // wholesale is for an account that is not live yet (or again), which activation then announces.
      if (accountStatus(account) === 'active') {
        throw new RepoImportError('The account is active: a repo can only be imported while the account is deactivated (as after createAccount for a migration)');
      }
    };
    checkImportable();
    const result = await importRepo(
      {
        repo: ctx.repo,
        stagingDir: ctx.config.storage.blobTmpDir,
        resolveSigningKey: (subject, opts) => ctx.identity.dids.resolveSigningKey(subject, opts),
      },
      did,
      input as AsyncIterable<Uint8Array>,
      checkImportable,
    );
    ctx.log.info({ did, commit: result.commit.cid, records: result.records, blocks: result.blocks, blobs: result.blobRefs }, 'repo imported');
  },
});
