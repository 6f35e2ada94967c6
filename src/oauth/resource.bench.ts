// What the OAuth resource check costs in CPU per request, against its floor (the one ES256
// signature of the DPoP proof, which no cache may skip) and against a session JWT's check:
// the numbers behind bench/oauth.ts's end-to-end difference (docs/benchmarks.md, "oauth").
// Run: node --import tsx src/oauth/resource.bench.ts
import { createHash, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SessionTokens, Scope } from '../auth/session-jwt.ts';
import { DpopNonces } from './dpop/nonces.ts';
import { DpopVerifier } from './dpop/proof.ts';
import { jwkThumbprint } from './jose/jwk.ts';
import { MemoryReplayStore } from './replay.ts';
import { ResourceVerifier } from './resource.ts';
import { AccessTokens } from './token/access-token.ts';

const ORIGIN = 'https://pds.example.com';
const PATH = '/xrpc/com.atproto.repo.createRecord';
const ROUNDS = 7;
const PER_ROUND = 2000;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const { kty, crv, x, y } = privateKey.export({ format: 'jwk' });
const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })).toString('base64url');
const nonces = new DpopNonces(randomBytes(32));
const accessTokens = new AccessTokens(randomBytes(32), ORIGIN, 'did:web:pds.example.com');
const { token } = accessTokens.issue({ sub: 'did:plc:bench', client_id: 'https://app.example.com/client-metadata.json', scope: 'atproto transition:generic', sid: 'ses-1', jkt: jwkThumbprint({ kty: kty!, crv, x, y }) });
const ath = createHash('sha256').update(token).digest('base64url');
// The session row as the store returns it (the SQLite lookup itself is in the end-to-end figure).
const session = { did: 'did:plc:bench', permissions: 'atproto transition:generic', expiresAt: new Date(Date.now() + 86_400_000) };
const resource = new ResourceVerifier({ accessTokens, dpop: new DpopVerifier(nonces, new MemoryReplayStore()), sessions: { readActiveSession: () => session }, publicOrigin: ORIGIN });
const sessionTokens = new SessionTokens(randomBytes(32).toString('hex'), 'did:web:pds.example.com');
const sessionJwt = sessionTokens.createAccess('did:plc:bench', Scope.Access).token;

/** Fresh proofs, signed ahead of time so signing is not measured (each is accepted once). */
function proofs(n: number): string[] {
  return Array.from({ length: n }, () => {
    const payload = Buffer.from(JSON.stringify({ htm: 'POST', htu: `${ORIGIN}${PATH}`, jti: randomBytes(12).toString('base64url'), iat: Math.floor(Date.now() / 1000), nonce: nonces.current(), ath })).toString('base64url');
    const input = `${header}.${payload}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  });
}

async function cpuPerCall(fn: (i: number) => unknown, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const samples: Record<string, number[]> = { 'OAuth resource check (ResourceVerifier.verify)': [], 'its floor: one ES256 verify': [], 'session JWT check (SessionTokens.verifyAccess)': [] };
const names = Object.keys(samples);
const [signedHeader, signedPayload, signature] = proofs(1)[0].split('.');
const [signed, sig] = [Buffer.from(`${signedHeader}.${signedPayload}`), Buffer.from(signature, 'base64url')];
for (let round = 0; round < ROUNDS; round++) {
  const batch = proofs(PER_ROUND);
  const request = (i: number) => ({ method: 'POST', url: PATH, headers: { dpop: batch[i] } }) as unknown as IncomingMessage;
  samples[names[0]].push(await cpuPerCall((i) => resource.verify(request(i), token), PER_ROUND));
  samples[names[1]].push(await cpuPerCall(() => verify('sha256', signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig), PER_ROUND));
  samples[names[2]].push(await cpuPerCall(() => sessionTokens.verifyAccess(sessionJwt), PER_ROUND));
}
for (const [name, values] of Object.entries(samples)) {
  const sorted = values.sort((a, b) => a - b);
  console.log(`${name}: ${sorted[sorted.length >> 1].toFixed(1)} µs CPU per call (median of ${ROUNDS} rounds of ${PER_ROUND})`);
}
