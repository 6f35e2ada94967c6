// What the `service` verifier costs on top of verifying the JWT itself: the bearer parse, the
// audience list, and the replay guard, which every accepted token passes through once.
// Run: node --import tsx src/auth/service-auth-verifier.bench.ts
import type { IncomingMessage } from 'node:http';
import { generateKeypair } from '../crypto/index.ts';
import type { RequestInfo } from '../xrpc/index.ts';
import { createServiceAuthVerifier } from './service-auth-verifier.ts';
import { ServiceJwtReplayGuard } from './service-jwt-replay.ts';
import { createServiceJwt, verifyServiceJwt } from './service-jwt.ts';

const SERVICE = 'did:web:pds.example.com';
const ISS = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const LXM = 'com.atproto.repo.uploadBlob';

/** Median ops/s over interleaved rounds (the machine is shared and noisy). */
async function measure(candidates: Record<string, () => unknown>, roundMs = 300, rounds = 5): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(candidates).map((n) => [n, []]));
  for (const fn of Object.values(candidates)) for (let i = 0; i < 50; i++) await fn();
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(candidates)) {
      let count = 0;
      const start = performance.now();
      while (performance.now() - start < roundMs) {
        for (let i = 0; i < 10; i++) await fn();
        count += 10;
      }
      samples[name].push((count * 1000) / (performance.now() - start));
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([n, s]) => [n, s.sort((a, b) => a - b)[Math.floor(s.length / 2)]]));
}

for (const alg of ['ES256K', 'ES256'] as const) {
  const keypair = await generateKeypair(alg);
  const key = keypair.did();
  const resolveKey = async () => key;
  const token = await createServiceJwt({ iss: ISS, aud: SERVICE, lxm: LXM, keypair });
  const verifier = createServiceAuthVerifier({ serviceDid: SERVICE, dids: { resolveSigningKey: resolveKey }, replayGuard: false });
  const info = { nsid: LXM, ip: '127.0.0.1', params: {}, req: { headers: { authorization: `Bearer ${token}` } } as IncomingMessage } as RequestInfo;
  const result = await measure({
    'verifyServiceJwt alone': () => verifyServiceJwt(token, { audience: SERVICE, lxm: LXM, resolveKey }),
    'service verifier (no replay guard)': () => verifier(info),
  });
  for (const [name, ops] of Object.entries(result)) console.log(`${alg.padEnd(7)} ${name.padEnd(36)} ${Math.round(ops).toLocaleString('en-US')} ops/s`);
}

// The replay guard with a full table: one check of a fresh jti, sweeping expired entries as it goes.
const guard = new ServiceJwtReplayGuard({ maxEntries: 10_000_000, maxPerIssuer: 10_000_000 });
const exp = Math.floor(Date.now() / 1000) + 60;
let n = 0;
for (; n < 100_000; n++) guard.checkAndRemember(ISS, `warm-${n}`, exp);
const guardResult = await measure({ 'replay guard check (100k entries)': () => guard.checkAndRemember(ISS, `jti-${n++}`, exp) });
for (const [name, ops] of Object.entries(guardResult)) console.log(`        ${name.padEnd(36)} ${Math.round(ops).toLocaleString('en-US')} ops/s`);
