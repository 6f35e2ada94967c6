import { HistogramChild, LabelledHistogram } from './histogram.ts';

/** Who called, as the auth verifier established it; `rejected` when it refused the credential. */
export const AUTH_KINDS = ['none', 'admin', 'access', 'refresh', 'service', 'rejected'] as const;
export type AuthKind = (typeof AUTH_KINDS)[number];
const AUTH_INDEX = new Map<string, number>(AUTH_KINDS.map((kind, i) => [kind, i]));

/** Latency buckets (seconds): sub-millisecond reads up to slow uploads and repo exports. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Label of requests for methods the server does not have: any number of them share one series. */
export const UNKNOWN_NSID = '_unknown';
/** Label of requests forwarded to another service for a method the server does not have itself. */
export const PROXIED_NSID = '_proxied';
const PROXIED = { nsid: PROXIED_NSID };

/**
 * XRPC requests by NSID, status and auth kind, with their latency. The label set is bounded:
 * NSIDs are those of registered methods (anything else is `_unknown`), statuses are the few the
 * server answers with, auth kinds a fixed list. Each combination's child is found with two map
 * lookups on the method entry and a small integer, so a request costs no string work.
 */
export class RequestMetrics {
  readonly histogram = new LabelledHistogram(
    'squall_xrpc_request_duration_seconds',
    'XRPC requests by method (NSID), HTTP status and auth kind, with their latency (_count is the request count).',
    ['nsid', 'status', 'auth'],
    LATENCY_BUCKETS,
  );
  readonly #byMethod = new Map<object | undefined, Map<number, HistogramChild>>();

  /**
   * `method` is the registry entry (undefined for an NSID without one); `auth` an AUTH_KINDS
   * name; `forwarded` when the request went to another service (proxying).
   */
  observe(method: { readonly nsid: string } | undefined, status: number, auth: string, seconds: number, forwarded = false): void {
    if (method === undefined && forwarded) method = PROXIED;
    let children = this.#byMethod.get(method);
    if (!children) {
      children = new Map();
      this.#byMethod.set(method, children);
    }
    const authIndex = AUTH_INDEX.get(auth) ?? 0;
    const key = status * 8 + authIndex;
    let child = children.get(key);
    if (!child) {
      child = this.histogram.child(method?.nsid ?? UNKNOWN_NSID, String(status), AUTH_KINDS[authIndex]);
      children.set(key, child);
    }
    child.observe(seconds);
  }
}
