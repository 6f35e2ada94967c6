// Small real atproto services for proxy tests (an AppView, a chat service, a report service...):
// an HTTP server on 127.0.0.1 whose did:plc is registered in the test PLC with a DID document
// naming its endpoint under its service id. Every request it receives is recorded, and its
// service-auth JWT checked with the official verifier (`verifyJwt` from @atproto/xrpc-server,
// keys through the official @atproto/identity resolver pointed at the test PLC).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secp256k1Keypair } from '@atproto/crypto';
import { verifyJwt } from '@atproto/xrpc-server';
import { Client as PlcClient } from '@did-plc/lib';
import { testIdResolver } from './plc.ts';

export interface Received {
  nsid: string;
  method: string;
  /** The query string exactly as it arrived (with its `?`), or ''. */
  search: string;
  headers: IncomingHttpHeaders;
  /** The body as read (a handler that streams it itself leaves this empty). */
  body: Buffer;
  /** The verified token's payload; undefined when there was no token or it failed (see `jwtError`). */
  jwt?: Record<string, unknown>;
  jwtError?: string;
  /** The raw bearer token. */
  token?: string;
}

/** Answers one call; `call.body` is read already unless the service was told `streamBodies`. */
export type Reply = (call: Received, res: ServerResponse, req: IncomingMessage) => void | Promise<void>;

export interface TestService {
  did: string;
  /** The service id in its DID document (`bsky_appview`...). */
  serviceId: string;
  /** `did#serviceId`, as an atproto-proxy header names it. */
  ref: string;
  url: string;
  received: Received[];
  /** Sets how the service answers a method (default: 200 with what it received). */
  on(nsid: string, reply: Reply): void;
  /** Calls to a method, oldest first. */
  calls(nsid: string): Received[];
  /** How often its did:web document was fetched (always 0 for a did:plc). */
  documentFetches(): number;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  serviceId: string;
  type: string;
  /** Do not read request bodies before the reply runs (it reads `req` itself). */
  streamBodies?: boolean;
  /** Known by `did:web:localhost%3A<port>`, its document served by itself, instead of a did:plc. */
  didWeb?: boolean;
}

/** Sends JSON. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startTestService(plcUrl: string, options: TestServiceOptions): Promise<TestService> {
  const resolver = testIdResolver(plcUrl);
  const replies = new Map<string, Reply>();
  const received: Received[] = [];
  let did = '';
  let endpoint = '';
  let documentFetches = 0;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://service.test');
      if (options.didWeb && url.pathname === '/.well-known/did.json') {
        documentFetches++;
        return json(res, 200, {
          '@context': ['https://www.w3.org/ns/did/v1'],
          id: did,
          service: [{ id: `#${options.serviceId}`, type: options.type, serviceEndpoint: endpoint }],
        });
      }
      const nsid = url.pathname.startsWith('/xrpc/') ? url.pathname.slice(6) : url.pathname;
      const call: Received = { nsid, method: req.method ?? 'GET', search: url.search, headers: req.headers, body: Buffer.alloc(0) };
      received.push(call);
      const auth = req.headers.authorization;
      if (auth?.startsWith('Bearer ')) {
        call.token = auth.slice(7);
        try {
          call.jwt = (await verifyJwt(call.token, did, nsid, (iss, force) => resolver.did.resolveAtprotoKey(iss, force))) as unknown as Record<string, unknown>;
        } catch (err) {
          call.jwtError = (err as { error?: string }).error ?? String(err);
        }
      }
      if (!options.streamBodies) {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        call.body = Buffer.concat(chunks);
      }
      if (call.jwt === undefined) return json(res, 401, { error: call.jwtError ?? 'AuthMissing', message: 'service auth required' });
      const reply = replies.get(nsid);
      if (reply) return reply(call, res, req);
      json(res, 200, { nsid, iss: call.jwt.iss, method: call.method, search: call.search, body: call.body.toString('utf8') });
    })().catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: 'TestServiceFailure', message: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  endpoint = url;
  if (options.didWeb) did = `did:web:localhost%3A${port}`;
  else did = await registerPlcService(plcUrl, url, options);

  return {
    did,
    serviceId: options.serviceId,
    ref: `${did}#${options.serviceId}`,
    url,
    received,
    on: (nsid, reply) => void replies.set(nsid, reply),
    calls: (nsid) => received.filter((r) => r.nsid === nsid),
    documentFetches: () => documentFetches,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A did:plc whose document names the service's endpoint under its service id. */
async function registerPlcService(plcUrl: string, url: string, options: TestServiceOptions): Promise<string> {
  const rotation = await Secp256k1Keypair.create();
  const signing = await Secp256k1Keypair.create();
  const plc = new PlcClient(plcUrl);
  const did = await plc.createDid({ signingKey: signing.did(), handle: `${options.serviceId.replace(/_/g, '-')}.test`, pds: url, rotationKeys: [rotation.did()], signer: rotation });
  await plc.updateData(did, rotation, (op) => ({
    ...op,
    services: { ...op.services, [options.serviceId]: { type: options.type, endpoint: url } },
  }));

  return did;
}
