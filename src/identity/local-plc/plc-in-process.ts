// The PDS's own client for the built-in directory: a `SafeFetch` that hands each request to the
// same `answerPlcRequest` the directory's HTTP server uses, without a socket. The PlcClient on top
// of it is the one that speaks to a public directory, so the PDS code path is the same either way.
import type { SafeFetch, SafeResponse } from '../../net/safe-fetch.ts';
import type { LocalPlcDirectory } from './plc-directory.ts';
import { answerPlcRequest } from './plc-http.ts';

/** The built-in directory's fetch: no network at all, so no address to trust or refuse. */
export type InProcessPlcFetch = SafeFetch & { readonly trust: 'in-process' };

export function createInProcessPlcFetch(directory: LocalPlcDirectory): InProcessPlcFetch {
  const fetch: SafeFetch = async (input, options = {}) => {
    const url = new URL(input);
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : Buffer.from(options.body).toString('utf8');
    const answer = await answerPlcRequest(directory, options.method ?? 'GET', url, body);
    const bytes = Buffer.from(answer.body, 'utf8');
    const response: SafeResponse = {
      status: answer.status,
      headers: { 'content-type': answer.contentType, 'content-length': String(bytes.length) },
      url: url.toString(),
      redirects: 0,
      body: bytes,
      text: () => answer.body,
      json: () => JSON.parse(answer.body) as unknown,
    };
    return response;
  };
  return Object.assign(fetch, { trust: 'in-process' as const });
}
