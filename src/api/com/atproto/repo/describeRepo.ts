import { localDidDocument } from '../../../../accounts/did-doc.ts';
import { RepoWriteError } from '../../../../repo/write-errors.ts';
import { defineMethod } from '../../../define.ts';
import { resolveReadableRepo } from './write-access.ts';

export default defineMethod({
  nsid: 'com.atproto.repo.describeRepo',
  auth: 'none',
  errors: ['RepoNotFound', 'RepoDeactivated', 'RepoTakendown'],
  handler({ ctx, params }) {
    const did = resolveReadableRepo(ctx, (params as { repo: string }).repo);
    const account = ctx.accounts.byDid(did);
    if (!account) throw new RepoWriteError('RepoNotFound', 'Could not find repo');
    const didDoc = localDidDocument({ did, handle: account.handle, signingKeyDid: account.signingKeyDid, pdsUrl: ctx.config.service.publicUrl });
    return {
      handle: account.handle,
      did,
      didDoc,
      collections: ctx.repo.collections(did),
      // The handle is ours (we host it) and the document we publish names it.
      handleIsCorrect: true,
    };
  },
});
