// Hot paths of identity and service auth, against the reference implementation where it has an
// equivalent. Every request proxied to an AppView mints a service token, every service-auth call
// verifies one, and every outbound request passes the address guard.
// Run: node --import tsx src/identity/identity.bench.ts
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as atprotoCrypto from '@atproto/crypto';
import { createServiceJwt as refCreate, verifyJwt as refVerify } from '@atproto/xrpc-server';
import { createServiceJwt, verifyServiceJwt } from '../auth/service-jwt.ts';
import { generateKeypair, type SigAlg } from '../crypto/index.ts';
import { safeFetch } from '../net/safe-fetch.ts';
import { classifyIp } from '../net/ip-address.ts';
import { extractAtprotoIdentity, parseDidDocument } from './did-document.ts';
import { createGenesisOperation } from './plc-operation.ts';
import { ResolverCache } from './resolver-cache.ts';

type Op = () => unknown;

/** Median ops/s over interleaved rounds (the machine is shared and noisy). */
async function measure(candidates: Record<string, Op>, { roundMs = 200, rounds = 5 } = {}): Promise<Record<string, number>> {
  const names = Object.keys(candidates);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) for (let i = 0; i < 20; i++) await candidates[n]();
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      const fn = candidates[n];
      let count = 0;
      const start = performance.now();
      while (performance.now() - start < roundMs) {
        for (let i = 0; i < 10; i++) await fn();
        count += 10;
      }
      samples[n].push((count * 1000) / (performance.now() - start));
    }
  }
  return Object.fromEntries(names.map((n) => [n, samples[n].sort((a, b) => a - b)[Math.floor(samples[n].length / 2)]]));
}

const rows: string[][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
function report(label: string, result: Record<string, number>) {
  const ours = result.ours;
  const ref = result.reference;
  rows.push([label, fmt(ours), ref === undefined ? '-' : fmt(ref), ref === undefined ? '-' : `${(ours / ref).toFixed(2)}×`]);
}

const DID = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz';
const AUD = 'did:web:api.bsky.app#bsky_appview';
const LXM = 'app.bsky.feed.getTimeline';

for (const alg of ['ES256K', 'ES256'] as SigAlg[]) {
  const ours = await generateKeypair(alg);
  const theirs = alg === 'ES256K' ? await atprotoCrypto.Secp256k1Keypair.import(ours.exportPrivateKey()) : await atprotoCrypto.P256Keypair.import(ours.exportPrivateKey());
  const key = ours.did();
  report(`mint service JWT (${alg})`, await measure({
    ours: () => createServiceJwt({ iss: DID, aud: AUD, lxm: LXM, keypair: ours }),
    reference: () => refCreate({ iss: DID, aud: AUD, lxm: LXM, keypair: theirs }),
  }));
  const token = await createServiceJwt({ iss: DID, aud: AUD, lxm: LXM, keypair: ours });
  report(`verify service JWT (${alg}, key cached)`, await measure({
    ours: () => verifyServiceJwt(token, { audience: AUD, lxm: LXM, resolveKey: async () => key }),
    reference: () => refVerify(token, AUD, LXM, async () => key),
  }));
}

const multikeyDoc = {
  id: DID,
  alsoKnownAs: ['at://alice.example.com'],
  verificationMethod: [{ id: `${DID}#atproto`, type: 'Multikey', controller: DID, publicKeyMultibase: 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF' }],
  service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.example.com' }],
};
const legacyDoc = {
  ...multikeyDoc,
  verificationMethod: [{ id: '#atproto', type: 'EcdsaSecp256k1VerificationKey2019', controller: DID, publicKeyMultibase: 'zQYEBzXeuTM9UR3rfvNag6L3RNAs5pQZyYPsomTsgQhsxLdEgCrPTLgFna8yqCnxPpNT7DBk6Ym3dgPKNu86vt9GR' }],
};
report('parse + extract DID document (Multikey)', await measure({ ours: () => extractAtprotoIdentity(parseDidDocument(multikeyDoc, DID)) }));
report('parse + extract DID document (legacy, uncompressed)', await measure({ ours: () => extractAtprotoIdentity(parseDidDocument(legacyDoc, DID)) }));

const cache = new ResolverCache<string>();
await cache.get(DID, async () => 'value');
report('resolver cache hit', await measure({ ours: () => cache.get(DID, async () => 'value') }));

const addresses = ['8.8.8.8', '192.168.1.1', '2606:4700:4700::1111', '::ffff:127.0.0.1'];
let i = 0;
report('classify an IP address', await measure({ ours: () => classifyIp(addresses[i++ & 3]) }));

const rotation = await generateKeypair('ES256K');
report('build + sign a PLC genesis operation', await measure({
  ours: () => createGenesisOperation({ rotationKeys: [rotation.did()], signingKey: rotation.did(), handle: 'alice.example.com', pdsEndpoint: 'https://pds.example.com' }, rotation),
}));

const server = http.createServer((_req, res) => res.end('did:plc:ewvi7nxzyoun6zhxrhs64oiz'));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/atproto-did`;
report('small GET on loopback (ours: safeFetch, reference: global fetch)', await measure({
  ours: async () => (await safeFetch(url, { allowPrivateNetwork: true })).text(),
  reference: async () => (await fetch(url)).text(),
}));
server.closeAllConnections();
server.close();

console.log('| operation | Squall ops/s | reference ops/s | ratio |\n|---|---:|---:|---:|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
