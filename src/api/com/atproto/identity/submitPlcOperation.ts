import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';
import { submitPlcOperationFor } from './plc-operations.ts';

export default defineMethod({
  nsid: 'com.atproto.identity.submitPlcOperation',
  auth: 'accessFull',
  accountAction: 'manageIdentity',
  oauth: (permissions) => permissions.assertIdentity({ attr: '*' }),
  maxBodyBytes: 64 * 1024,
  async handler({ ctx, auth, input }) {
    const dids = ctx.identity.dids;
    await submitPlcOperationFor(
      {
        accounts: ctx.accounts,
        plc: ctx.plc,
        rotationKeyDid: ctx.rotationKey.did(),
        publicUrl: ctx.config.service.publicUrl,
        committer: ctx.committer,
        sequencer: ctx.sequencer,
        firehose: ctx.firehose,
        invalidate: (did) => dids.invalidate(did),
      },
      requireAccess(auth).did,
      (input as { operation: unknown }).operation,
    );
  },
});
