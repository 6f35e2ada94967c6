// A client closing its connection in the middle of a download is not a server error (issue 12,
// finding 10): it is logged at info level, without a stack, so nobody can flood the error log.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

interface LogLine {
  level: number;
  msg: string;
  nsid?: string;
  err?: { stack?: string };
}

let plc: TestPlc;
let server: TestServer;
let agent: AtpAgent;
const lines: LogLine[] = [];

before(async () => {
  plc = await startTestPlc();
  const logs = new PassThrough();
  logs.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine)));
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url }, { logStream: logs });
  agent = new AtpAgent({ service: server.url });
  await agent.createAccount({ handle: 'aborts.test', email: 'aborts@example.com', password: 'aborts-password-1' });
});
after(async () => {
  await server.close();
  await plc.close();
});

/** GETs a path, reads the first chunk of the answer, then drops the connection; waits for the server to notice. */
async function abortAfterFirstChunk(path: string, headers: Record<string, string> = {}): Promise<void> {
  const before = lines.length;
  await new Promise<void>((resolve, reject) => {
    const req = request(`${server.url}${path}`, { headers }, (res) => {
      assert.equal(res.statusCode, 200);
      res.once('data', () => req.destroy());
    });
    req.on('error', () => {});
    req.on('close', resolve);
    req.on('error', reject);
    req.end();
  });
  // The server logs when its pipeline notices the closed socket; wait for that line.
  while (!lines.slice(before).some((l) => l.msg.includes('went away') || l.level >= 50)) await new Promise((r) => setTimeout(r, 10));
}

describe('a client that goes away mid-answer', () => {
  it('is logged at info level without a stack when it aborts a blob download, and never at error level', async () => {
    const { data } = await agent.uploadBlob(randomBytes(32 * 1024 * 1024), { encoding: 'application/octet-stream' });
    // Only a referenced blob is served (a record of a Lexicon the server does not know may hold any size).
    const record = { $type: 'com.example.file', file: data.blob };
    await agent.com.atproto.repo.createRecord({ repo: agent.session!.did, collection: 'com.example.file', record });
    const did = agent.session!.did;
    const cid = data.blob.ref.toString();
    const before = lines.length;
    for (let i = 0; i < 3; i++) await abortAfterFirstChunk(`/xrpc/com.atproto.sync.getBlob?did=${did}&cid=${cid}`, { authorization: `Bearer ${agent.session!.accessJwt}` });
    const logged = lines.slice(before);
    assert.deepEqual(logged.filter((l) => l.level >= 50).map((l) => l.msg), []);
    const gone = logged.filter((l) => l.msg.includes('went away'));
    assert.equal(gone.length, 3);
    for (const line of gone) {
      assert.equal(line.level, 30);
      assert.equal(line.nsid, 'com.atproto.sync.getBlob');
      assert.equal(line.err, undefined);
      assert.doesNotMatch(JSON.stringify(line), /\n\s+at /);
    }
  });
});
