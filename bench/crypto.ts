// Signing and verification cost per curve: every commit is signed, and relays and service auth
// verify on every event/request. Run: node --import tsx bench/crypto.ts
// Baselines in the same process: @atcute/crypto (node:crypto with low-S fixes) and @atproto/crypto
// (pure JS on @noble/curves, the reference implementation's library). Candidates are timed in
// interleaved rounds and the median kept, because the machine is shared and noisy.
import { P256PrivateKeyExportable, Secp256k1PrivateKeyExportable, verifySigWithDidKey } from '@atcute/crypto';
import { P256Keypair, Secp256k1Keypair, verifySignature as refVerify } from '@atproto/crypto';
import { clearVerifyKeyCache, generateKeypair, parseDidKey, verifySignature, type SigAlg } from '../src/crypto/index.ts';
import { median } from './lib/stats.ts';
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';

type Op = () => unknown;

/** Ops/s of each candidate: `rounds` rounds, each running every candidate for `roundMs` in turn. */
async function compare(candidates: Record<string, Op | undefined>, { roundMs = 200, rounds = 5, batch = 1 } = {}): Promise<Record<string, number | undefined>> {
  const names = Object.keys(candidates).filter((n) => candidates[n] !== undefined);
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) {
    // Warm the JIT for ~100 ms (and at least a few calls) before measuring.
    const until = performance.now() + 100;
    for (let i = 0; i < 3 || performance.now() < until; i++) await candidates[n]!();
  }
  for (let r = 0; r < rounds; r++) {
    for (const n of names) {
      const fn = candidates[n]!;
      let count = 0;
      const start = performance.now();
      let elapsed = 0;
      while (elapsed < roundMs) {
        for (let i = 0; i < 10; i++) await fn();
        count += 10 * batch;
        elapsed = performance.now() - start;
      }
      samples[n].push((count * 1000) / elapsed);
    }
  }
  return Object.fromEntries(Object.keys(candidates).map((n) => [n, median(samples[n] ?? [])]));
}

// A ~150-byte unsigned commit is what gets signed in practice.
const msg = new Uint8Array(150).map((_, i) => (i * 31) & 0xff);
const rows: Array<Array<string | undefined>> = [];
const row = (label: string, r: Record<string, number | undefined>) => {
  const ours = r.ours!;
  rows.push([label, formatNumber(ours), formatNumber(r.atcute), formatNumber(r.ref), r.atcute ? formatRatio(ours / r.atcute) : '-', r.ref ? formatRatio(ours / r.ref) : '-']);
};

for (const alg of ['ES256K', 'ES256'] as SigAlg[]) {
  const ours = await generateKeypair(alg);
  const ourSig = await ours.sign(msg);
  const atcute = alg === 'ES256K' ? await Secp256k1PrivateKeyExportable.createKeypair() : await P256PrivateKeyExportable.createKeypair();
  const atcuteDid = await atcute.exportPublicKey('did');
  const atcuteSig = await atcute.sign(msg);
  const ref = alg === 'ES256K' ? await Secp256k1Keypair.create() : await P256Keypair.create();
  const refSig = await ref.sign(msg);

  row(`${alg} sign`, await compare({ ours: () => ours.sign(msg), atcute: () => atcute.sign(msg), ref: () => ref.sign(msg) }));
  row(`${alg} signSync (on the event loop)`, await compare({ ours: () => ours.signSync(msg) }));
  row(`${alg} sign, 4 at a time`, await compare({ ours: () => Promise.all([ours.sign(msg), ours.sign(msg), ours.sign(msg), ours.sign(msg)]) }, { batch: 4 }));
  row(
    `${alg} verify, did:key cached`,
    await compare({
      ours: () => verifySignature(ours.did(), msg, ourSig),
      atcute: () => verifySigWithDidKey(atcuteDid, atcuteSig, msg),
      ref: () => refVerify(ref.did(), msg, refSig),
    }),
  );
  row(
    `${alg} verify, did:key parsed each call`,
    await compare({
      ours: () => {
        clearVerifyKeyCache();
        return verifySignature(ours.did(), msg, ourSig);
      },
    }),
  );
  row(`${alg} generate keypair + did:key`, await compare({ ours: () => generateKeypair(alg) }));
  row(`${alg} parseDidKey (point validated)`, await compare({ ours: () => parseDidKey(ours.did()) }));
}

console.log(`Node ${process.version}; ops/s, median of interleaved rounds. @atcute and @atproto verify parse the did:key on every call.`);
console.log(markdownTable(['operation', 'Squall', '@atcute/crypto', '@atproto/crypto', 'vs atcute', 'vs @atproto'], rows, [1, 2, 3, 4, 5]));
