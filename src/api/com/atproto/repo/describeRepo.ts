import { localDidDocument } from '../../../../accounts/did-doc.ts';
import { RepoWriteError } from '../../../../repo/write-errors.ts';
import { defineMethod } from '../../../define.ts';
import { checkAccountHandle } from '../identity/handle-check.ts';
import { resolveReadableRepo } from './write-access.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.describeRepo',
  auth: 'none',
  errors: ['RepoNotFound', 'RepoDeactivated', 'RepoTakendown'],
  async handler({ ctx, params }) {
    const did = resolveReadableRepo(ctx, (params as { repo: string }).repo);
    const account = ctx.accounts.byDid(did);
    if (!account) throw new RepoWriteError('RepoNotFound', 'Could not find repo');
    // Checked, not assumed: the DID document is the one its method publishes, and it must
    // name the handle (it may not, after a migration or a failed update).
    const check = await checkAccountHandle({ identity: ctx.identity, handleDomains: ctx.config.service.handleDomains }, account);
    const didDoc =
      check.document ?? localDidDocument({ did, handle: account.handle, signingKeyDid: account.signingKeyDid, pdsUrl: ctx.config.service.publicUrl });
    return {
      handle: account.handle,
      did,
      didDoc,
      collections: ctx.repo.collections(did),
      handleIsCorrect: check.handleIsCorrect,
    };
  },
});
