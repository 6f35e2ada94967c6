import { IdResolver } from '@atproto/identity';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Database, PlcServer } from '@did-plc/server';

export interface TestPlc {
  url: string;
  /** How often the document of `did` was asked for (GET /<did>). */
  documentFetches(did: string): number;
  close(): Promise<void>;
}

/** A real did:plc directory (the official server with its in-memory database) on 127.0.0.1. */
export async function startTestPlc(): Promise<TestPlc> {
  const server = PlcServer.create({ db: Database.mock(), port: 0 });
  const http = await server.start();
  const address = http.address() as AddressInfo;
  const fetches = new Map<string, number>();
  http.on('request', (req: IncomingMessage) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0].slice(1));
    if (req.method === 'GET' && path.startsWith('did:')) fetches.set(path, (fetches.get(path) ?? 0) + 1);
  });
  return {
    url: `http://127.0.0.1:${address.port}`,
    documentFetches: (did) => fetches.get(did) ?? 0,
    async close() {
      await server.destroy();
    },
  };
}

/**
 * The official resolver (`@atproto/identity`), used as an independent verifier, pointed at a test
 * directory on loopback. Its default fetch refuses IP hosts and plain http by design (SSRF
 * protection), so tests hand it the unguarded global fetch.
 */
export function testIdResolver(plcUrl: string): IdResolver {
  return new IdResolver({ plcUrl, fetch: globalThis.fetch });
}
