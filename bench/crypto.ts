// Signing and verification cost per curve: every commit is signed, and relays and service auth
// verify on every event/request. Run: node --import tsx bench/crypto.ts
// Baselines in the same process: @atcute/crypto (node:crypto with low-S fixes) and @atproto/crypto
// (pure JS on @noble/curves, the reference implementation's library). Candidates are timed in
// interleaved rounds and the median kept, because the machine is shared and noisy.
import { P256PrivateKeyExportable, Secp256k1PrivateKeyExportable, verifySigWithDidKey } from '@atcute/crypto';
import { P256Keypair, Secp256k1Keypair, verifySignature as refVerify } from '@atproto/crypto';
import { clearVerifyKeyCache, generateKeypair, parseDidKey, verifySignature, type SigAlg } from '../src/crypto/index.ts';
import { compareOps, type CompareOptions, type Op } from './lib/compare.ts';

/** Signatures are cheap enough that the clock is read every 10 calls. */
const compareCrypto = (candidates: Record<string, Op | undefined>, options: CompareOptions = {}) => compareOps(candidates, { callsPerCheck: 10, ...options });
import { formatNumber, formatRatio, markdownTable } from './lib/table.ts';



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

  row(`${alg} sign`, await compareCrypto({ ours: () => ours.sign(msg), atcute: () => atcute.sign(msg), ref: () => ref.sign(msg) }));
  row(`${alg} signSync (on the event loop)`, await compareCrypto({ ours: () => ours.signSync(msg) }));
  row(`${alg} sign, 4 at a time`, await compareCrypto({ ours: () => Promise.all([ours.sign(msg), ours.sign(msg), ours.sign(msg), ours.sign(msg)]) }, { batch: 4 }));
  row(
    `${alg} verify, did:key cached`,
    await compareCrypto({
      ours: () => verifySignature(ours.did(), msg, ourSig),
      atcute: () => verifySigWithDidKey(atcuteDid, atcuteSig, msg),
      ref: () => refVerify(ref.did(), msg, refSig),
    }),
  );
  row(
    `${alg} verify, did:key parsed each call`,
    await compareCrypto({
      ours: () => {
        clearVerifyKeyCache();
        return verifySignature(ours.did(), msg, ourSig);
      },
    }),
  );
  row(`${alg} generate keypair + did:key`, await compareCrypto({ ours: () => generateKeypair(alg) }));
  row(`${alg} parseDidKey (point validated)`, await compareCrypto({ ours: () => parseDidKey(ours.did()) }));
}

console.log(`Node ${process.version}; ops/s, median of interleaved rounds. @atcute and @atproto verify parse the did:key on every call.`);
console.log(markdownTable(['operation', 'Squall', '@atcute/crypto', '@atproto/crypto', 'vs atcute', 'vs @atproto'], rows, [1, 2, 3, 4, 5]));
