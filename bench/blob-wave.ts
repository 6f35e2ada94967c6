// load.mjs's getBlob phase replayed on its own, to look at its tail: a few 1 MB blobs referenced
// from records, then rounds of --gets getBlobs by --concurrency readers. The first round is cold,
// as in load.mjs (whose p99 over 60 answers is that round's slowest one); later rounds are warm.
// Prints, per round, MB/s, p50, p99 and the latencies of the first wave (the first C requests),
// which show whether concurrent downloads share the server evenly or finish one after another.
//
//   node --import tsx bench/blob-wave.ts [--server squall|reference] [--rounds 3] [--blobs 6]
//        [--gets 60] [--concurrency 8] [--size 1048576]
// Squall is started as `npm start` starts it (with a local did:plc directory), the reference PDS
// through ../shared/bench/refpds/start.sh; each run starts a fresh server.
import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { numberFlag, parseArgs, UsageError } from './lib/args.ts';
import { startLocalPlc } from './lib/plc.ts';
import { startReferencePds } from './lib/refpds.ts';
import { startSquall } from './lib/squall.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(base: string, method: 'GET' | 'POST', path: string, body?: Buffer | object, token?: string, type = 'application/json'): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const headers = { ...(data ? { 'content-type': type, 'content-length': data.length } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const req = request(`${base}/xrpc/${path}`, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function json(res: { status: number; body: Buffer }, what: string): any {
  if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`);
  return JSON.parse(res.body.toString());
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const server = args.flags.get('server') ?? 'squall';
  if (server !== 'squall' && server !== 'reference') throw new UsageError('--server is squall or reference');
  const rounds = numberFlag(args, 'rounds', 3, 1, 100);
  const blobs = numberFlag(args, 'blobs', 6, 1, 100);
  const gets = numberFlag(args, 'gets', 60, 1, 100_000);
  const concurrency = numberFlag(args, 'concurrency', 8, 1, 256);
  const size = numberFlag(args, 'size', 1 << 20, 1, 50 << 20);
  const plc = server === 'squall' ? await startLocalPlc() : undefined;
  const target = server === 'squall' ? await startSquall({ plcUrl: plc!.url }) : await startReferencePds({ showProgress: false });
  try {
    const base = target.url;
    const stamp = Date.now().toString(36);
    const account = json(await call(base, 'POST', 'com.atproto.server.createAccount', { handle: `w${stamp}.test`, email: `w${stamp}@example.com`, password: 'bench-password-1' }), 'createAccount');
    const cids: string[] = [];
    for (let i = 0; i < blobs; i++) {
      const { blob } = json(await call(base, 'POST', 'com.atproto.repo.uploadBlob', randomBytes(size), account.accessJwt, 'application/octet-stream'), 'uploadBlob');
      // referenced from a record, so the blob is permanent and served
      const record = { $type: 'com.example.bench.blobref', blob, createdAt: new Date().toISOString() };
      json(await call(base, 'POST', 'com.atproto.repo.createRecord', { repo: account.did, collection: 'com.example.bench.blobref', record }, account.accessJwt), 'createRecord');
      cids.push(blob.ref.$link);
    }
    for (let round = 0; round < rounds; round++) {
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < gets) {
            const i = next++;
            const t0 = performance.now();
            const res = await call(base, 'GET', `com.atproto.sync.getBlob?did=${account.did}&cid=${cids[i % cids.length]}`);
            if (res.status !== 200 || res.body.length !== size) throw new Error(`getBlob: HTTP ${res.status}, ${res.body.length} bytes`);
            latencies[i] = performance.now() - t0;
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
      const wave = latencies.slice(0, concurrency).map((ms) => ms.toFixed(0)).join(' ');
      console.log(
        `${server} round ${round} (${round === 0 ? 'cold' : 'warm'}): ${((gets * size) / 1e6 / seconds).toFixed(1)} MB/s, p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms; first wave: ${wave}`,
      );
    }
  } finally {
    await target.stop();
    await plc?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench/blob-wave failed: ${err instanceof UsageError ? err.message : String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
