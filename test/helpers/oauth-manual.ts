// A hand-driven OAuth client for protocol tests: DPoP keys and proofs made with `jose` (an
// independent JOSE implementation), PAR and token requests with full control over every field,
// and the authorization pages answered over plain HTTP (cookies, CSRF token, form posts).
import { createHash, randomBytes } from 'node:crypto';
import * as jose from 'jose';

export class DpopKey {
  private constructor(
    readonly privateKey: jose.CryptoKey,
    readonly jwk: jose.JWK,
  ) {}

  static async generate(alg = 'ES256'): Promise<DpopKey> {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    return new DpopKey(privateKey, await jose.exportJWK(publicKey));
  }

  /** The same key as a node:crypto private key (the benchmark signs its proofs on node:crypto). */
  static async fromKeyObject(privateKey: import('node:crypto').KeyObject): Promise<DpopKey> {
    const { d, ...publicJwk } = privateKey.export({ format: 'jwk' });
    const key = (await jose.importJWK({ ...publicJwk, d }, 'ES256')) as jose.CryptoKey;
    return new DpopKey(key, { kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y });
  }

  async thumbprint(): Promise<string> {
    return jose.calculateJwkThumbprint(this.jwk);
  }

  /** A DPoP proof; every claim can be overridden (or removed with `undefined`). */
  async proof(htm: string, htu: string, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): Promise<string> {
    const payload = { htm, htu, jti: randomBytes(12).toString('base64url'), iat: Math.floor(Date.now() / 1000), ...claims };
    for (const [k, v] of Object.entries(payload)) if (v === undefined) delete (payload as Record<string, unknown>)[k];
    return new jose.SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: this.jwk, ...header }).sign(this.privateKey);
  }
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export const athOf = (token: string) => createHash('sha256').update(token).digest('base64url');

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A confidential client's signing key: each request gets a fresh `private_key_jwt` assertion. */
export class ClientSigner {
  private constructor(
    readonly privateKey: jose.CryptoKey,
    readonly jwk: jose.JWK,
  ) {}

  static async generate(kid: string): Promise<ClientSigner> {
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
    return new ClientSigner(privateKey, { ...(await jose.exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
  }

  assertion(clientId: string, audience: string, claims: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: clientId, sub: clientId, aud: audience, jti: randomBytes(12).toString('base64url'), iat: now, exp: now + 60, ...claims };
    return new jose.SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: this.jwk.kid }).sign(this.privateKey);
  }
}

/**
 * A client driven by hand: by default a development client (`http://localhost?...`) with a
 * loopback redirect URI; with `clientId`, `redirectUri` and `signer`, a confidential one.
 */
export class ManualClient {
  nonce: string | undefined;
  readonly redirectUri: string;
  readonly clientId: string;
  signer: ClientSigner | undefined;

  constructor(
    readonly baseUrl: string,
    readonly key: DpopKey,
    readonly scope = 'atproto transition:generic',
    opts: { clientId?: string; redirectUri?: string; signer?: ClientSigner } = {},
  ) {
    this.redirectUri = opts.redirectUri ?? 'http://127.0.0.1/callback';
    this.clientId = opts.clientId ?? `http://localhost?redirect_uri=${encodeURIComponent(this.redirectUri)}&scope=${encodeURIComponent(scope)}`;
    this.signer = opts.signer;
  }

  /** The client authentication fields of a request (none for a public client). */
  async credentials(): Promise<Record<string, string>> {
    if (this.signer === undefined) return {};
    return { client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await this.signer.assertion(this.clientId, this.baseUrl) };
  }

  /** POSTs a form to an OAuth endpoint with a DPoP proof (fetching a nonce first when needed). */
  async post(path: string, params: Record<string, string | undefined>, opts: { key?: DpopKey | null; claims?: Record<string, unknown>; proof?: string } = {}): Promise<Answer> {
    const send = async () => {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      const key = opts.key === undefined ? this.key : opts.key;
      if (opts.proof) headers.dpop = opts.proof;
      else if (key) headers.dpop = await key.proof('POST', `${this.baseUrl}${path}`, { nonce: this.nonce, ...opts.claims });
      const all = { ...(await this.credentials()), ...params };
      const body = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
      const res = await fetch(`${this.baseUrl}${path}`, { method: 'POST', headers, body });
      const nonce = res.headers.get('dpop-nonce');
      if (nonce) this.nonce = nonce;
      return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
    };
    let answer = await send();
    if (answer.status === 400 && answer.body.error === 'use_dpop_nonce' && !opts.proof && opts.claims?.nonce === undefined) answer = await send();
    return answer;
  }

  parParams(overrides: Record<string, string | undefined> = {}): { params: Record<string, string | undefined>; verifier: string } {
    const { verifier, challenge } = pkce();
    return {
      verifier,
      params: {
        client_id: this.clientId,
        response_type: 'code',
        redirect_uri: this.redirectUri,
        scope: this.scope,
        state: randomBytes(8).toString('hex'),
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...overrides,
      },
    };
  }

  async par(overrides: Record<string, string | undefined> = {}): Promise<{ requestUri: string; verifier: string; state: string }> {
    const { params, verifier } = this.parParams(overrides);
    const answer = await this.post('/oauth/par', params);
    if (answer.status !== 201) throw new Error(`PAR failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return { requestUri: answer.body.request_uri as string, verifier, state: params.state! };
  }

  /** PAR, then the pages (sign in, approve) over plain HTTP; returns the redirect back to the app. */
  async authorize(identifier: string, password: string, opts: { decision?: 'allow' | 'deny'; par?: Record<string, string | undefined> } = {}) {
    const { requestUri, verifier, state } = await this.par(opts.par);
    const pages = new PageSession(this.baseUrl);
    const query = `request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(this.clientId)}`;
    const signInPage = await pages.get(`/oauth/authorize?${query}`);
    const csrf = csrfOf(signInPage.text);
    const signedIn = await pages.post('/oauth/authorize/sign-in', { request_uri: requestUri, client_id: this.clientId, csrf, identifier, password, remember: '1' });
    if (signedIn.status !== 303) throw new Error(`sign-in failed: ${signedIn.status} ${signedIn.text.slice(0, 500)}`);
    await pages.get(signedIn.location!);
    const done = await pages.post('/oauth/authorize/consent', { request_uri: requestUri, client_id: this.clientId, csrf, decision: opts.decision ?? 'allow' });
    if (done.status !== 303) throw new Error(`consent failed: ${done.status} ${done.text.slice(0, 500)}`);
    const redirect = new URL(done.location!);
    return { redirect, code: redirect.searchParams.get('code'), verifier, state };
  }

  async exchange(code: string, verifier: string, extra: Record<string, string | undefined> = {}, opts: { key?: DpopKey } = {}): Promise<Answer> {
    return this.post('/oauth/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: this.redirectUri, client_id: this.clientId, ...extra }, opts);
  }

  async signIn(identifier: string, password: string): Promise<{ access: string; refresh: string; sub: string; scope: string }> {
    const { code, verifier } = await this.authorize(identifier, password);
    const answer = await this.exchange(code!, verifier);
    if (answer.status !== 200) throw new Error(`token failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return { access: answer.body.access_token as string, refresh: answer.body.refresh_token as string, sub: answer.body.sub as string, scope: answer.body.scope as string };
  }

  /** An XRPC call with `Authorization: DPoP` and a proof (nonce retry included, as clients do). */
  async xrpc(method: 'GET' | 'POST', nsid: string, access: string, body?: unknown, opts: { key?: DpopKey; claims?: Record<string, unknown>; scheme?: string; query?: string; contentType?: string } = {}): Promise<Answer> {
    const url = `${this.baseUrl}/xrpc/${nsid}${opts.query ? `?${opts.query}` : ''}`;
    const send = async () => {
      const key = opts.key ?? this.key;
      const headers: Record<string, string> = {
        authorization: `${opts.scheme ?? 'DPoP'} ${access}`,
        dpop: await key.proof(method, `${this.baseUrl}/xrpc/${nsid}`, { nonce: this.nonce, ath: athOf(access), ...opts.claims }),
      };
      if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
      const res = await fetch(url, { method, headers, body: body === undefined ? undefined : typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
      const nonce = res.headers.get('dpop-nonce');
      if (nonce) this.nonce = nonce;
      return { status: res.status, headers: res.headers, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    let answer = await send();
    if (answer.status === 401 && answer.body.error === 'use_dpop_nonce' && opts.claims?.nonce === undefined) answer = await send();
    return answer;
  }
}

/** A browser stand-in for the pages: keeps cookies, sends same-origin form posts, never follows redirects. */
export class PageSession {
  readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async get(path: string) {
    return this.#send(path, { method: 'GET' });
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = { origin: new URL(this.baseUrl).origin }) {
    return this.#send(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() });
  }

  async #send(path: string, init: RequestInit) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(path, this.baseUrl), { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const set of res.headers.getSetCookie()) {
      const [pair] = set.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return { status: res.status, location: res.headers.get('location') ?? undefined, headers: res.headers, text: await res.text() };
  }
}

export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no CSRF token on the page: ${html.slice(0, 300)}`);
  return match[1];
}
