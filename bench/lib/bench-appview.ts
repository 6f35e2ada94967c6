// A fast stand-in AppView for the proxy benchmark, run as its own process (its CPU is not the
// PDS's): answers app.bsky.actor.getProfile with a fixed profile after checking that the service
// token is addressed to it, for that method, unexpired. It does not verify signatures (the proxy
// tests do that with the official verifier); checked tokens are remembered so a reused token costs
// one map lookup. Prints `listening <port>` when ready.
//
//   node --import tsx bench/lib/bench-appview.ts <did>
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const did = process.argv[2] ?? 'did:web:appview.bench.test';
const NSID = 'app.bsky.actor.getProfile';
const checked = new Map<string, number>();

const profile = (actor: string) =>
  JSON.stringify({
    did: actor.startsWith('did:') ? actor : 'did:plc:ewvi7nxzyoun6zhxrhs64oiz',
    handle: 'bench-user.bsky.social',
    displayName: 'A benchmark profile',
    description: 'Served by the benchmark AppView, the same answer every time, about the size of a real one.',
    avatar: 'https://cdn.bsky.app/img/avatar/plain/did:plc:ewvi7nxzyoun6zhxrhs64oiz/bafkreibenchbenchbenchbenchbenchbenchbenchbenchbenchbenchbench@jpeg',
    followersCount: 1234,
    followsCount: 321,
    postsCount: 4567,
    indexedAt: '2024-01-01T00:00:00.000Z',
    createdAt: '2023-05-01T00:00:00.000Z',
    viewer: { muted: false, blockedBy: false },
    labels: [],
  });

function tokenOk(authorization: string | undefined): boolean {
  if (!authorization?.startsWith('Bearer ')) return false;
  const token = authorization.slice(7);
  const nowS = Date.now() / 1000;
  const exp = checked.get(token);
  if (exp !== undefined) return exp > nowS;
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    const ok = payload.aud === did && payload.lxm === NSID && typeof payload.exp === 'number' && payload.exp > nowS;
    if (!ok) return false;
    if (checked.size > 10_000) checked.clear();
    checked.set(token, payload.exp as number);
    return true;
  } catch {
    return false;
  }
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path !== `/xrpc/${NSID}`) {
    res.writeHead(404, { 'content-type': 'application/json' });
    return void res.end('{"error":"MethodNotImplemented","message":"not here"}');
  }
  if (!tokenOk(req.headers.authorization)) {
    res.writeHead(401, { 'content-type': 'application/json' });
    return void res.end('{"error":"BadJwt","message":"bad service token"}');
  }
  const actor = new URLSearchParams(q === -1 ? '' : url.slice(q + 1)).get('actor') ?? '';
  const body = profile(actor);
  // A caught-up AppView: it reports having indexed the requester's repo past anything it holds.
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'atproto-repo-rev': 'zzzzzzzzzzzzz' });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
