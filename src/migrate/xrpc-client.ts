// A small XRPC client for the migration command: it talks to two PDSes as the account's owner
// (the old one and this one), so it is a client like any other and uses the platform fetch.

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
  email?: string;
  active?: boolean;
  status?: string;
}

type Params = Record<string, string | number | undefined>;

export class XrpcClient {
  session: Session | undefined;

  constructor(readonly url: string) {}

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

  async #send(
    nsid: string,
    opts: { method: string; params?: Params; headers?: Record<string, string>; body?: string | Uint8Array | ReadableStream<Uint8Array>; authorization?: string },
  ): Promise<Response> {
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
