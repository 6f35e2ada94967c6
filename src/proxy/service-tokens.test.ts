import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeypair } from '../crypto/index.ts';
import { NoSigningKeyError, ServiceTokens } from './service-tokens.ts';

const payload = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

async function setup(options: { maxEntries?: number } = {}) {
  const keypair = await generateKeypair('ES256K');
  let signatures = 0;
  let now = 1_700_000_000_000;
  const counting = { alg: keypair.alg, sign: (data: Uint8Array) => (signatures++, keypair.sign(data)) };
  const tokens = new ServiceTokens((did) => (did === 'did:plc:alice' ? counting : undefined), { now: () => now, ...options });
  return { tokens, signatures: () => signatures, advance: (s: number) => (now += s * 1000), nowS: () => Math.floor(now / 1000) };
}

describe('ServiceTokens', () => {
  it('mints iss, bare aud, lxm and a 60-second exp', async () => {
    const { tokens, nowS } = await setup();
    const claims = payload(await tokens.get('did:plc:alice', 'did:web:api.bsky.app', 'app.bsky.feed.getTimeline', true));
    assert.deepEqual([claims.iss, claims.aud, claims.lxm, claims.iat, claims.exp], ['did:plc:alice', 'did:web:api.bsky.app', 'app.bsky.feed.getTimeline', nowS(), nowS() + 60]);
  });

  it('reuses a token while it has 30 seconds left, then mints a new one', async () => {
    const { tokens, signatures, advance } = await setup();
    const first = await tokens.get('did:plc:alice', 'did:web:api.bsky.app', 'app.bsky.feed.getTimeline', true);
    advance(30);
    assert.equal(await tokens.get('did:plc:alice', 'did:web:api.bsky.app', 'app.bsky.feed.getTimeline', true), first);
    advance(1);
    assert.notEqual(await tokens.get('did:plc:alice', 'did:web:api.bsky.app', 'app.bsky.feed.getTimeline', true), first);
    assert.equal(signatures(), 2);
  });

  it('signs once for concurrent callers, keeps audiences and methods apart, and mints every time without reuse', async () => {
    const { tokens, signatures } = await setup();
    const same = await Promise.all([1, 2, 3].map(() => tokens.get('did:plc:alice', 'did:web:api.bsky.app', 'app.bsky.actor.getProfile', true)));
    assert.equal(new Set(same).size, 1);
    assert.equal(signatures(), 1);
    await tokens.get('did:plc:alice', 'did:web:other.example', 'app.bsky.actor.getProfile', true);
    await tokens.get('did:plc:alice', 'did:web:api.bsky.app', 'app.bsky.actor.getProfiles', true);
    assert.equal(signatures(), 3);
    const a = await tokens.get('did:plc:alice', 'did:web:x.example', 'app.bsky.actor.getProfile', false);
    const b = await tokens.get('did:plc:alice', 'did:web:x.example', 'app.bsky.actor.getProfile', false);
    assert.notEqual(a, b);
  });

  it('stays within its size, forgetting the oldest', async () => {
    const { tokens, signatures } = await setup({ maxEntries: 2 });
    for (const lxm of ['a.b.one', 'a.b.two', 'a.b.three']) await tokens.get('did:plc:alice', 'did:web:x.example', lxm, true);
    await tokens.get('did:plc:alice', 'did:web:x.example', 'a.b.three', true);
    assert.equal(signatures(), 3);
    await tokens.get('did:plc:alice', 'did:web:x.example', 'a.b.one', true);
    assert.equal(signatures(), 4);
  });

  it('refuses an account without a signing key, and does not remember the failure', async () => {
    const { tokens } = await setup();
    await assert.rejects(tokens.get('did:plc:nobody', 'did:web:x.example', 'a.b.c', true), NoSigningKeyError);
    await assert.rejects(tokens.get('did:plc:nobody', 'did:web:x.example', 'a.b.c', true), NoSigningKeyError);
  });
});
