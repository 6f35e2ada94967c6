import type { RateLimitSpec } from '../xrpc/index.ts';

const HOUR = 60 * 60 * 1000;

/** Points per write, as the official PDS counts them: creates cost most, deletes least. */
const POINTS = { create: 3, update: 2, delete: 1 } as const;

type WriteAction = keyof typeof POINTS;

const didOf = ({ auth }: { auth: unknown }) => (auth as { did?: string }).did;

/**
 * Repo write limits per account, the official PDS's: 5,000 points an hour and 35,000 a day.
 * `actions` says what one call writes.
 */
export function writeRateLimits(actions: (input: unknown) => WriteAction[]): RateLimitSpec[] {
  const cost = ({ input }: { input: unknown }) => actions(input).reduce((sum, action) => sum + POINTS[action], 0);
  return [
    { name: 'repo-write-hour', points: 5000, windowMs: HOUR, key: didOf, cost },
    { name: 'repo-write-day', points: 35000, windowMs: 24 * HOUR, key: didOf, cost },
  ];
}
