import { adminUpdateHandle } from '../../../../accounts/admin-accounts.ts';
import { defineMethod } from '../../../define.ts';

export default defineMethod({
  nsid: 'com.atproto.admin.updateAccountHandle',
  auth: 'admin',
  maxBodyBytes: 4096,
  errors: ['NotFound', 'InvalidHandle', 'HandleNotAvailable', 'UnsupportedDomain'],
  async handler({ ctx, input }) {
    const { did, handle } = input as { did: string; handle: string };
    await adminUpdateHandle(
      {
        accounts: ctx.accounts,
        handleDomains: ctx.config.service.handleDomains,
        plc: ctx.plc,
        rotationKey: ctx.rotationKey,
        committer: ctx.committer,
        sequencer: ctx.sequencer,
        firehose: ctx.firehose,
      },
      did,
      handle,
    );
  },
});
