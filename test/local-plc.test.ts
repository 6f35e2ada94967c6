import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import * as officialPlc from '@did-plc/lib';
import { testIdResolver } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const lines: string[] = [];
const logStream = new Writable({
  write(chunk, _enc, cb) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    cb();
  },
});

let server: TestServer;
let plcUrl: string;
before(async () => {
  // No PDS_DID_PLC_URL on localhost: the playground setup.
  server = await startTestServer({ PDS_DID_PLC_URL: '', PDS_ALLOW_PRIVATE_NETWORK: 'false', PDS_LOCAL_PLC_PORT: '0' }, { logStream });
  plcUrl = server.server.plcUrl!;
});
after(() => server.close());

describe('a local playground (localhost, no PLC directory configured)', () => {
  it('says in one boot line that DIDs go to its built-in PLC directory, not the public network', () => {
    const messages = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    const said = messages.filter((m) => m.startsWith('local playground:'));
    assert.deepEqual(said, [`local playground: DIDs are registered in the built-in PLC directory at ${plcUrl}, not on the public network`]);
    assert.match(plcUrl, /^http:\/\/localhost:\d+$/);
  });

  it('creates accounts whose DIDs the official resolver finds in the built-in directory', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'play.test', email: 'play@example.com', password: 'playground-pw-1' });
    const did = agent.session!.did;
    const atproto = await testIdResolver(plcUrl).did.resolveAtprotoData(did);
    assert.equal(atproto.handle, 'play.test');
    assert.equal(atproto.pds, server.server.ctx.config.service.publicUrl);
    const audit = await new officialPlc.Client(plcUrl).getAuditableLog(did);
    assert.equal(audit.length, 1);
  });

  it('records a handle change as a new operation in the built-in directory', async () => {
    const agent = new AtpAgent({ service: server.url });
    await agent.createAccount({ handle: 'renamed.test', email: 'renamed@example.com', password: 'playground-pw-2' });
    await agent.com.atproto.identity.updateHandle({ handle: 'new-name.test' });
    const log = await new officialPlc.Client(plcUrl).getOperationLog(agent.session!.did);
    assert.equal(log.length, 2);
    assert.deepEqual((await testIdResolver(plcUrl).did.resolveAtprotoData(agent.session!.did)).handle, 'new-name.test');
  });

  it('resolves its own accounts for service auth and identity methods through the same directory', async () => {
    const res = await fetch(`${server.url}/xrpc/com.atproto.identity.resolveHandle?handle=new-name.test`);
    assert.equal(res.status, 200);
    const { did } = (await res.json()) as { did: string };
    assert.equal((await server.server.ctx.identity.dids.resolve(did)).identity.handle, 'new-name.test');
  });
});
