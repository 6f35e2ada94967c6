// Read-after-write, as the official PDS does it: right after an account writes, the AppView has
// not indexed its new posts or profile yet. When the AppView's answer says (`atproto-repo-rev`)
// that it has seen the account's repo only up to an older rev, the account's newer records are
// merged into the views that show them, and `Atproto-Upstream-Lag` tells by how much it lags.
// Every other answer streams through untouched; this one is read, merged and sent as JSON.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SchemaSource, XrpcError } from '../../xrpc/index.ts';
import { UpstreamFailureError } from '../../xrpc/index.ts';
import { FORWARDED_RESPONSE_HEADERS } from '../headers.ts';
import type { ServiceCall } from '../service-call.ts';
import { canDecode, isJson, readBody, UpstreamBodyError } from '../upstream-body.ts';
import { localRecordsSince, upstreamLag, type Json, type LocalRecordSource } from './local-records.ts';
import { mergeIntoThread, threadFromLocal } from './thread.ts';
import { LocalViewer } from './viewer.ts';
import { PROFILE_AND_FEED_MERGES, type Merge } from './views.ts';

const MERGES: Readonly<Record<string, Merge>> = { ...PROFILE_AND_FEED_MERGES, 'app.bsky.feed.getPostThread': mergeIntoThread };
/** The views built from local records alone when the AppView answers 404 NotFound. */
const FROM_LOCAL_WHEN_NOT_FOUND: Readonly<Record<string, typeof threadFromLocal>> = { 'app.bsky.feed.getPostThread': threadFromLocal };

export const UPSTREAM_LAG_HEADER = 'Atproto-Upstream-Lag';
const CODINGS_WE_READ = new Set(['gzip', 'x-gzip', 'br', 'deflate', 'zstd', 'identity']);

export interface ReadAfterWriteDeps extends LocalRecordSource {
  /** The account's current profile record and handle. */
  profileOf(did: string): Json | undefined;
  handleOf(did: string): string | undefined;
  publicUrl: string;
  schemas: Pick<SchemaSource, 'validateOutput'>;
  maxBytes: number;
  /** The configured AppView, for quoted records and thread parents. */
  appView?: ServiceCall;
  log: { warn(obj: object, msg?: string): void };
}

export class ReadAfterWrite {
  readonly #deps: ReadAfterWriteDeps;

  constructor(deps: ReadAfterWriteDeps) {
    this.#deps = deps;
  }

  handles(nsid: string): boolean {
    return Object.hasOwn(MERGES, nsid);
  }

  /** The client's accepted codings that this server can also decode (it may have to read the answer). */
  acceptEncoding(client: string | undefined): string {
    const readable = (client ?? '').split(',').filter((item) => CODINGS_WE_READ.has(item.split(';')[0].trim().toLowerCase()));
    return readable.length > 0 ? readable.map((s) => s.trim()).join(', ') : 'identity';
  }

  /**
   * After a successful answer: when the account wrote what the AppView has not seen, answers with
   * the merged view and returns true. Returns false, having read nothing, otherwise.
   */
  async answer(nsid: string, iss: string, response: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const merge = MERGES[nsid];
    const rev = header(response, 'atproto-repo-rev');
    if (!merge || rev === undefined || !isJson(header(response, 'content-type')) || !canDecode(response.headers['content-encoding'])) return false;
    const local = localRecordsSince(this.#deps, iss, rev);
    if (!local) return false;
    let bytes: Buffer;
    try {
      bytes = await readBody(response, this.#deps.maxBytes);
    } catch (err) {
      if (err instanceof UpstreamBodyError) throw new UpstreamFailureError('Upstream answer could not be read');
      throw err;
    }
    let merged: Json | undefined;
    try {
      const view = JSON.parse(bytes.toString('utf8')) as unknown;
      // An answer that is not the method's output is passed on as it came, never merged into.
      if (this.#deps.schemas.validateOutput(nsid, view).success) merged = await merge(view as Json, local, this.#viewer(iss));
    } catch (err) {
      this.#deps.log.warn({ err, nsid }, 'read-after-write could not merge local records');
    }
    send(res, response.headers, merged === undefined ? bytes : Buffer.from(JSON.stringify(merged)), merged === undefined ? undefined : upstreamLag(local));
    return true;
  }

  /** After an upstream 404 NotFound: answers from local records when they hold what was asked. */
  async answerNotFound(nsid: string, iss: string, query: URLSearchParams, error: XrpcError, res: ServerResponse): Promise<boolean> {
    const build = FROM_LOCAL_WHEN_NOT_FOUND[nsid];
    const rev = error.headers['atproto-repo-rev'];
    if (!build || error.error !== 'NotFound' || rev === undefined) return false;
    const local = localRecordsSince(this.#deps, iss, rev);
    const view = local && (await build(query, local, this.#viewer(iss)));
    if (!view || !local) return false;
    send(res, error.headers, Buffer.from(JSON.stringify(view)), upstreamLag(local));
    return true;
  }

  #viewer(did: string): LocalViewer {
    const appView = this.#deps.appView;
    return new LocalViewer({
      did,
      handle: this.#deps.handleOf(did) ?? 'handle.invalid',
      profile: this.#deps.profileOf(did),
      publicUrl: this.#deps.publicUrl,
      appView: appView && ((nsid, params) => appView(did, nsid, params)),
    });
  }
}

function header(response: IncomingMessage, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === 'string' ? value : undefined;
}

function send(res: ServerResponse, upstream: IncomingMessage['headers'] | Record<string, string>, body: Buffer, lag: number | undefined): void {
  res.statusCode = 200;
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream[name];
    if (value !== undefined && name !== 'content-length' && name !== 'content-encoding' && name !== 'content-type') res.setHeader(name, value);
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  if (lag !== undefined) res.setHeader(UPSTREAM_LAG_HEADER, String(lag));
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

