import { requireAccess } from '../../../../auth/types.ts';
import { defineMethod } from '../../../define.ts';
import { changeOwnHandle } from './handle-change.ts';

const MINUTE = 60_000;
const byCaller = ({ auth }: { auth: unknown }) => (auth as { did?: string }).did;

export default defineMethod({
  nsid: 'com.atproto.identity.updateHandle',
  auth: 'accessFull',
  accountAction: 'manageIdentity',
  oauth: (permissions) => permissions.assertIdentity({ attr: 'handle' }),
  // The official PDS answers handle refusals with these names, though the Lexicon declares none.
  errors: ['InvalidHandle', 'HandleNotAvailable', 'UnsupportedDomain'],
  maxBodyBytes: 4096,
  // Each change is a PLC operation and a firehose event: the official PDS's per-account limits.
  rateLimits: [
    { name: 'update-handle-5m', points: 10, windowMs: 5 * MINUTE, key: byCaller },
    { name: 'update-handle-day', points: 50, windowMs: 24 * 60 * MINUTE, key: byCaller },
  ],
  async handler({ ctx, auth, input }) {
    const { did } = requireAccess(auth);
    await changeOwnHandle(
      {
        accounts: ctx.accounts,
        handleDomains: ctx.config.service.handleDomains,
        devMode: ctx.config.service.devMode,
        identity: ctx.identity,
        plc: ctx.plc,
        rotationKey: ctx.rotationKey,
        committer: ctx.committer,
        sequencer: ctx.sequencer,
        firehose: ctx.firehose,
      },
      did,
      (input as { handle: string }).handle,
    );
  },
});
