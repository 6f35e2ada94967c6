import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { renderHurl } from './hurl.ts';
import { runSmoke } from './run.ts';

describe('the smoke suite', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('passes every check against a fresh server', async () => {
    const results = await runSmoke(server.url, { adminPassword: server.adminPassword });
    const failures = results.filter((r) => !r.ok).map((r) => `${r.check.name}: ${r.problems.join('; ')}`);
    assert.deepEqual(failures, []);
    assert.ok(results.length >= 14);
  });

  it('ships a hurl file generated from the same checks', () => {
    const committed = readFileSync(new URL('./xrpc.hurl', import.meta.url), 'utf8');
    assert.equal(committed, renderHurl(), 'test/smoke/xrpc.hurl is stale: run `npm run smoke:hurl`');
  });
});
