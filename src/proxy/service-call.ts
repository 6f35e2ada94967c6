// A call the PDS makes to a configured service on an account's behalf, for its own use (a quoted
// post's view, a thread's parents during read-after-write): a GET with a service token, JSON back.
import type { Json } from './read-after-write/local-records.ts';
import type { ServiceTokens } from './service-tokens.ts';
import { discard, readJson, READABLE_ENCODINGS } from './upstream-body.ts';
import type { Upstreams } from './upstream.ts';

export interface ConfiguredTarget {
  did: string;
  url: string;
}

export type ServiceCall = (iss: string, nsid: string, params: Record<string, string | string[]>) => Promise<Json | undefined>;

/** Calls `target` as `iss`; undefined for any answer but 200 JSON. Throws when it cannot be reached. */
export function createServiceCall(target: ConfiguredTarget, deps: { upstreams: Upstreams; tokens: ServiceTokens; maxBytes: number }): ServiceCall {
  return async (iss, nsid, params) => {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) for (const v of Array.isArray(value) ? value : [value]) query.append(name, v);
    const token = await deps.tokens.get(iss, target.did, nsid, true);
    const response = await deps.upstreams.request({
      url: new URL(`${target.url}/xrpc/${nsid}?${query}`),
      method: 'GET',
      headers: { authorization: `Bearer ${token}`, 'accept-encoding': READABLE_ENCODINGS },
      guarded: false,
    });
    if (response.statusCode !== 200) {
      discard(response, 64 * 1024);
      return undefined;
    }
    const body = await readJson(response, deps.maxBytes);
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Json) : undefined;
  };
}
