import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { XrpcError } from '../xrpc/index.ts';
import { parseProxyHeader, ProxyRoutes } from './routes.ts';

const appView = { url: 'http://appview.internal:3000', did: 'did:web:api.bsky.app' };
const report = { url: 'https://mod.example.com', did: 'did:plc:ar7c4by46qjdydhdevvrndac' };
const mod = { url: 'https://ozone.example.com', did: 'did:web:ozone.example.com' };
const routes = new ProxyRoutes({ appView, report, mod });
const bare = new ProxyRoutes({});

const req = (header?: string) => ({ headers: header === undefined ? {} : { 'atproto-proxy': header } }) as IncomingMessage;
const local = (nsid: string, forwardWhenProxiedElsewhere = false) => ({ nsid, forwardWhenProxiedElsewhere });

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof XrpcError);
    assert.equal(err.status, 400);
    return err.message;
  }
  assert.fail('expected a 400');
}

describe('ProxyRoutes', () => {
  it('answers a method Squall serves here, whatever the header names', () => {
    assert.equal(routes.decide('com.atproto.repo.createRecord', req('did:web:elsewhere.example#bsky_appview'), local('com.atproto.repo.createRecord')), undefined);
    assert.equal(routes.decide('com.atproto.repo.createRecord', req('garbage'), local('com.atproto.repo.createRecord')), undefined);
  });

  it('forwards a method marked so only when the header names another service than its default one', () => {
    const prefs = local('app.bsky.actor.getPreferences', true);
    assert.equal(routes.decide(prefs.nsid, req(), prefs), undefined);
    assert.equal(routes.decide(prefs.nsid, req('did:web:api.bsky.app#bsky_appview'), prefs), undefined);
    assert.deepEqual(routes.decide(prefs.nsid, req('did:web:other.example#bsky_appview'), prefs), { did: 'did:web:other.example', serviceId: 'bsky_appview' });
    assert.deepEqual(routes.decide(prefs.nsid, req('did:web:api.bsky.app#other_view'), prefs), { did: 'did:web:api.bsky.app', serviceId: 'other_view' });
  });

  it('routes by namespace without a header: AppView, report service, moderation service', () => {
    assert.deepEqual(routes.decide('app.bsky.feed.getTimeline', req(), undefined), { ...appView, serviceId: 'bsky_appview' });
    assert.deepEqual(routes.decide('app.bsky.something.brandNew', req(), undefined), { ...appView, serviceId: 'bsky_appview' });
    assert.deepEqual(routes.decide('com.atproto.moderation.createReport', req(), undefined), { ...report, serviceId: 'atproto_labeler' });
    assert.deepEqual(routes.decide('tools.ozone.moderation.emitEvent', req(), undefined), { ...mod, serviceId: 'atproto_labeler' });
    assert.equal(routes.decide('com.atproto.moderation.somethingElse', req(), undefined), undefined);
    assert.equal(routes.decide('com.example.custom.method', req(), undefined), undefined);
  });

  it('says so when a namespace has a default route but no service is configured for it', () => {
    assert.match(refusal(() => routes.decide('chat.bsky.convo.listConvos', req(), undefined)), /No service is configured for chat\.bsky\.convo\.listConvos/);
    assert.match(refusal(() => bare.decide('app.bsky.feed.getTimeline', req(), undefined)), /No service is configured/);
  });

  it('forwards any method name to the service a header names, with the configured URL for a configured service', () => {
    assert.deepEqual(routes.decide('com.example.custom.method', req('did:plc:abcdefghijklmnopqrstuvwx#my_view'), undefined), { did: 'did:plc:abcdefghijklmnopqrstuvwx', serviceId: 'my_view' });
    assert.deepEqual(routes.decide('chat.bsky.convo.listConvos', req('did:web:api.bsky.app#bsky_appview'), undefined), { ...appView, serviceId: 'bsky_appview' });
    assert.deepEqual(routes.decide('com.example.labels.get', req(`${report.did}#atproto_labeler`), undefined), { ...report, serviceId: 'atproto_labeler' });
  });

  it('never sends account, identity, admin or repo methods away, and leaves names that are not NSIDs alone', () => {
    for (const nsid of ['com.atproto.server.newThing', 'com.atproto.identity.refreshIdentity', 'com.atproto.admin.searchAccounts', 'com.atproto.repo.newThing']) {
      assert.match(refusal(() => routes.decide(nsid, req('did:web:other.example#bsky_appview'), undefined)), /never forwarded/);
      assert.equal(routes.decide(nsid, req(), undefined), undefined);
    }
    assert.equal(routes.decide('../admin', req('did:web:other.example#x'), undefined), undefined);
    assert.equal(routes.decide('app.bsky.feed.getTimeline/../x', req(), undefined), undefined);
  });
});

describe('parseProxyHeader', () => {
  it('reads did#service_id', () => {
    assert.deepEqual(parseProxyHeader('did:web:api.bsky.chat#bsky_chat'), { did: 'did:web:api.bsky.chat', serviceId: 'bsky_chat' });
  });

  it('says what is wrong with a malformed header', () => {
    assert.match(refusal(() => parseProxyHeader('did:web:api.bsky.chat')), /no service id/);
    assert.match(refusal(() => parseProxyHeader('did:web:api.bsky.chat#')), /no service id/);
    assert.match(refusal(() => parseProxyHeader('#bsky_chat')), /no DID/);
    assert.match(refusal(() => parseProxyHeader('did:web:a.example#x#y')), /malformed/);
    assert.match(refusal(() => parseProxyHeader('did:web:a.example#x, did:web:b.example#y')), /malformed/);
    assert.match(refusal(() => parseProxyHeader('web:a.example#x')), /invalid DID/);
    assert.match(refusal(() => parseProxyHeader('did:web:a.example#x/y')), /invalid service id/);
    assert.match(refusal(() => parseProxyHeader(`did:web:${'a'.repeat(3000)}.example#x`)), /too long/);
  });
});
