// The admin commands talk to a running Squall over its own XRPC API with the admin password,
// found in --admin-password, PDS_ADMIN_PASSWORD, or the data directory's secrets.json.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../config.ts';
import { readSecretsFile } from '../../secrets.ts';
import { CliError, stringOption, type CliIo, type OptionValues } from '../command.ts';

export interface AdminClient {
  readonly url: string;
  /** Calls a method with the admin credential; a GET without `body`, a POST with it. */
  call<T = unknown>(nsid: string, opts?: { query?: Record<string, string | string[]>; body?: unknown; auth?: string | false }): Promise<T>;
  /** A DID as is; a handle resolved through the server. */
  resolveDid(id: string): Promise<string>;
}

/** The options every admin command accepts. */
export const ADMIN_OPTIONS = {
  url: { type: 'string' },
  'admin-password': { type: 'string' },
  'data-dir': { type: 'string' },
} as const;

export function serverUrl(options: OptionValues, env: CliIo['env']): string {
  const url = stringOption(options, 'url') ?? env.PDS_PUBLIC_URL ?? `http://127.0.0.1:${env.PDS_PORT || '2583'}`;
  return url.replace(/\/+$/, '');
}

export function adminPassword(options: OptionValues, io: CliIo): string {
  const given = stringOption(options, 'admin-password') ?? io.env.PDS_ADMIN_PASSWORD;
  if (given) return given;
  const dataDir = resolve(io.cwd, stringOption(options, 'data-dir') ?? io.env.PDS_DATA_DIRECTORY ?? './data');
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    let secrets;
    try {
      secrets = readSecretsFile(file);
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message);
      throw err;
    }
    if (secrets.adminPassword) return secrets.adminPassword;
  }
  throw new CliError(`no admin password: pass --admin-password, set PDS_ADMIN_PASSWORD, or run from the PDS directory (${file})`);
}

export function createAdminClient(options: OptionValues, io: CliIo): AdminClient {
  const url = serverUrl(options, io.env);
  let authorization: string | undefined;
  const adminAuth = () => (authorization ??= `Basic ${Buffer.from(`admin:${adminPassword(options, io)}`).toString('base64')}`);

  async function call<T>(nsid: string, opts: { query?: Record<string, string | string[]>; body?: unknown; auth?: string | false } = {}): Promise<T> {
    const target = new URL(`${url}/xrpc/${nsid}`);
    for (const [key, value] of Object.entries(opts.query ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) target.searchParams.append(key, v);
    }
    const headers: Record<string, string> = {};
    const auth = opts.auth === undefined ? adminAuth() : opts.auth;
    if (auth) headers.authorization = auth;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(target, {
        method: opts.body === undefined ? 'GET' : 'POST',
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      throw new CliError(`cannot reach ${url}: ${(err as Error).message} (is Squall running? start it with \`squall serve\` or \`npm start\`)`);
    }
    const text = await res.text();
    let json: { error?: string; message?: string } = {};
    try {
      json = text ? (JSON.parse(text) as typeof json) : {};
    } catch {
      if (res.ok) throw new CliError(`${nsid}: the server sent something that is not JSON`);
    }
    if (!res.ok) throw new CliError(`${nsid} failed: ${res.status} ${json.error ?? ''} ${json.message ?? ''}`.trim(), 1);
    return json as T;
  }

  return {
    url,
    call,
    async resolveDid(id) {
      if (id.startsWith('did:')) return id;
      try {
        const { did } = await call<{ did: string }>('com.atproto.identity.resolveHandle', { query: { handle: id }, auth: false });
        return did;
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        throw new CliError(`cannot resolve the handle ${id}: ${err.message} (a taken-down or deactivated account's handle does not resolve: pass its DID)`, 1);
      }
    },
  };
}
