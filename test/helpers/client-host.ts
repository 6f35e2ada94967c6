// A web host for OAuth clients in tests: https on 127.0.0.1 with the test CA's certificate for
// `*.squall.test`, serving whatever documents a test puts there (client metadata, JWKS), and the
// name resolution that sends Squall's guarded fetch to it.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { HostResolver } from '../../src/net/safe-fetch.ts';

const TLS = new URL('../fixtures/oauth-tls/', import.meta.url);

export interface Served {
  status?: number;
  contentType?: string;
  body: unknown;
  headers?: Record<string, string>;
}

export interface ClientHost {
  /** `https://client.squall.test:<port>` */
  origin: string;
  /** Serves `body` (JSON unless a string) at `path`. */
  serve(path: string, doc: Served | Record<string, unknown>): void;
  /** How many times each path was fetched. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** Resolves `*.squall.test` to 127.0.0.1 and everything else as the system would. */
export const resolveTestHosts: HostResolver = async (hostname) => {
  if (hostname === 'squall.test' || hostname.endsWith('.squall.test')) return [{ address: '127.0.0.1', family: 4 }];
  const found = await lookup(hostname, { all: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export async function startClientHost(): Promise<ClientHost> {
  const documents = new Map<string, Served>();
  const hits = new Map<string, number>();
  const server: Server = createServer({ cert: readFileSync(new URL('client.pem', TLS)), key: readFileSync(new URL('client.key', TLS)) }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const doc = documents.get(path);
    if (doc === undefined) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const text = typeof doc.body === 'string' ? doc.body : JSON.stringify(doc.body);
    res.statusCode = doc.status ?? 200;
    res.setHeader('Content-Type', doc.contentType ?? 'application/json');
    for (const [name, value] of Object.entries(doc.headers ?? {})) res.setHeader(name, value);
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://client.squall.test:${port}`,
    serve(path, doc) {
      documents.set(path, 'body' in doc && Object.keys(doc).every((k) => ['status', 'contentType', 'body', 'headers'].includes(k)) ? (doc as Served) : { body: doc });
    },
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
