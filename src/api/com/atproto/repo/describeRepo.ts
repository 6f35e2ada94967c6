import { localDidDocument } from '../../../../accounts/did-doc.ts';
import { defineMethod } from '../../../define.ts';
import { checkAccountHandle } from '../identity/handle-check.ts';
import { readableRepo } from '../../../repo-access.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.describeRepo',
  auth: 'none',
  errors: ['RepoNotFound', 'RepoDeactivated', 'RepoTakendown'],
  async handler({ ctx, auth, params }) {
    const account = readableRepo(ctx, (params as { repo: string }).repo, auth);
    const did = account.did;
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
