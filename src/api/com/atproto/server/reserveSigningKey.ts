import { defineMethod } from '../../../define.ts';
import { reserveKeyLimits, reservedKeys } from '../../../account-flows.ts';

/**
 * No login: an account moving here reserves its signing key before the account exists, to put
 * the key in its DID document (as with the official PDS). Rate limits bound the table's growth.
 */
export default defineMethod({
  nsid: 'com.atproto.server.reserveSigningKey',
  auth: 'none',
  maxBodyBytes: 4096,
  rateLimits: reserveKeyLimits,
  async handler({ ctx, input }) {
    const { did } = (input ?? {}) as { did?: string };
    return { signingKey: await reservedKeys(ctx).reserve(did) };
  },
});
