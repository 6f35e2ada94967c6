import { clientKeyOf } from '../net/ip-address.ts';
import { AuthRequiredError, InvalidTokenError, RateLimitExceededError, type RequestInfo } from '../xrpc/index.ts';
import type { FailureThrottle } from './failure-throttle.ts';
import { secretsEqual } from './secret-compare.ts';
import type { AdminAuth } from './types.ts';

/**
 * The admin credential, separate from every account credential: `Basic admin:<password>` (as the
 * official PDS) or `Bearer <admin password>`. Account tokens never pass: they are not the password.
 *
 * With a throttle, a client that has failed too often is refused with 429 until its window ends,
 * even with the right password, so a throttled guesser learns nothing from its answers.
 */
export function createAdminVerifier(adminPassword: string, throttle?: FailureThrottle) {
  return (info: RequestInfo): AdminAuth => {
    const header = info.req.headers.authorization;
    if (!header) throw new AuthRequiredError('Admin credentials required');
    const client = clientKeyOf(info.ip);
    const waitMs = throttle?.retryAfterMs(client) ?? 0;
    if (waitMs > 0) {
      throw new RateLimitExceededError('Too many failed admin credentials from this client; try again later', {
        'Retry-After': String(Math.ceil(waitMs / 1000)),
      });
    }
    const space = header.indexOf(' ');
    const scheme = space === -1 ? header.toLowerCase() : header.slice(0, space).toLowerCase();
    const value = space === -1 ? '' : header.slice(space + 1).trim();
    let candidate: string | undefined;
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon !== -1 && decoded.slice(0, colon) === 'admin') candidate = decoded.slice(colon + 1);
    } else if (scheme === 'bearer') {
      candidate = value;
    }
    // Always run one comparison so a malformed header costs as much as a wrong password.
    const ok = secretsEqual(candidate ?? '', adminPassword) && candidate !== undefined;
    if (!ok) {
      throttle?.recordFailure(client);
      throw new InvalidTokenError('Invalid admin credentials');
    }
    return { type: 'admin' };
  };
}
