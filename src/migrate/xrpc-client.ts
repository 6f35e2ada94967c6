// A small XRPC client for the migration command: it talks to two PDSes as the account's owner
// (the old one and this one), so it is a client like any other and uses the platform fetch.
// A migration can outlast an access token (two hours or less: a large repo with many blobs), so
// the session is refreshed with its refresh token when the access token is about to expire, and
// once more when a server answers ExpiredToken to a request that can be sent again.

/** An XRPC call that failed: the status and the `{error, message}` the server answered with. */
export class XrpcCallError extends Error {
  constructor(
    readonly nsid: string,
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(`${nsid}: ${status} ${error}${message ? `: ${message}` : ''}`);
  }
}

export interface Session {
  did: string;
  handle: string;
  accessJwt: string;
  refreshJwt?: string;
  email?: string;
  active?: boolean;
  status?: string;
}

type Params = Record<string, string | number | undefined>;

type SendOptions = { method: string; params?: Params; headers?: Record<string, string>; body?: string | Uint8Array | ReadableStream<Uint8Array>; authorization?: string };

/** An access token this close to its expiry is refreshed before it is sent. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export class XrpcClient {
  session: Session | undefined;
  /** The refresh in flight: concurrent requests share it (a refresh token is used once). */
  #refreshing: Promise<void> | undefined;

  constructor(
    readonly url: string,
    /** This machine's clock, read against tokens' `exp` (a clock that is off is what the retry on ExpiredToken covers). */
    readonly now: () => number = Date.now,
  ) {}

  async query<T>(nsid: string, params: Params = {}): Promise<T> {
    const res = await this.#send(nsid, { method: 'GET', params });
    return (await res.json()) as T;
  }

  /** A query answered with bytes, as a stream (getRepo, getBlob); nothing is buffered. */
  async stream(nsid: string, params: Params = {}): Promise<{ body: ReadableStream<Uint8Array>; contentType: string | undefined; length: number | undefined }> {
    const res = await this.#send(nsid, { method: 'GET', params });
    if (!res.body) throw new XrpcCallError(nsid, res.status, 'InvalidResponse', 'the answer has no body');
    const length = res.headers.get('content-length');
    return { body: res.body, contentType: res.headers.get('content-type') ?? undefined, length: length === null ? undefined : Number(length) };
  }

  async procedure<T>(nsid: string, body?: unknown, opts: { authorization?: string } = {}): Promise<T> {
    const res = await this.#send(nsid, {
      method: 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      authorization: opts.authorization,
    });
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Sends bytes or a stream as the body of a procedure (importRepo, uploadBlob). */
  async upload<T>(nsid: string, body: Uint8Array | ReadableStream<Uint8Array>, contentType: string): Promise<T> {
    const res = await this.#send(nsid, { method: 'POST', headers: { 'content-type': contentType }, body });
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async login(identifier: string, password: string): Promise<Session> {
    this.session = await this.procedure<Session>('com.atproto.server.createSession', { identifier, password });
    return this.session;
  }

  /** Sends with the session's access token (refreshed as needed) unless the call brings its own. */
  async #send(nsid: string, opts: SendOptions): Promise<Response> {
    const ownSession = opts.authorization === undefined && this.session?.refreshJwt !== undefined;
    if (ownSession && expiresWithin(this.session!.accessJwt, this.now() + REFRESH_MARGIN_MS)) await this.refreshSession();
    try {
      return await this.#sendOnce(nsid, opts);
    } catch (err) {
      // a stream body is spent: that call fails, and the command's next run resumes it
      const again = ownSession && err instanceof XrpcCallError && err.error === 'ExpiredToken' && !(opts.body instanceof ReadableStream);
      if (!again) throw err;
      await this.refreshSession();
      return await this.#sendOnce(nsid, opts);
    }
  }

  /** New tokens for the session from its refresh token (com.atproto.server.refreshSession). */
  refreshSession(): Promise<void> {
    this.#refreshing ??= (async () => {
      const session = this.session;
      if (session?.refreshJwt === undefined) throw new XrpcCallError('com.atproto.server.refreshSession', 0, 'NoSession', 'no session to refresh: sign in again');
      const res = await this.#sendOnce('com.atproto.server.refreshSession', { method: 'POST', authorization: `Bearer ${session.refreshJwt}` });
      const tokens = (await res.json()) as { accessJwt: string; refreshJwt: string };
      this.session = { ...session, accessJwt: tokens.accessJwt, refreshJwt: tokens.refreshJwt };
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #sendOnce(nsid: string, opts: SendOptions): Promise<Response> {
    const url = new URL(`${this.url.replace(/\/+$/, '')}/xrpc/${nsid}`);
    for (const [key, value] of Object.entries(opts.params ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const authorization = opts.authorization ?? (this.session ? `Bearer ${this.session.accessJwt}` : undefined);
    let res: Response;
    try {
      res = await fetch(url, {
        method: opts.method,
        headers: { ...opts.headers, ...(authorization ? { authorization } : {}) },
        body: opts.body,
        ...(opts.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (err) {
      throw new XrpcCallError(nsid, 0, 'Unreachable', `cannot reach ${this.url}: ${(err as Error).message}`);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      let error = 'Error';
      let message = text.slice(0, 500);
      try {
        const json = JSON.parse(text) as { error?: string; message?: string };
        error = json.error ?? error;
        message = json.message ?? '';
      } catch {
        // not JSON: keep the text
      }
      throw new XrpcCallError(nsid, res.status, error, message);
    }
    return res;
  }
}

/** Whether a JWT's `exp` falls before `time` (ms); false for a token that does not say. */
function expiresWithin(jwt: string, time: number): boolean {
  try {
    const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof exp === 'number' && exp * 1000 < time;
  } catch {
    return false;
  }
}
