import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeScopes } from './describe.ts';
import { GrantedPermissions, ScopeMissingError } from './permissions.ts';

const missing = (fn: () => void, scope: string) => assert.throws(fn, (err: unknown) => err instanceof ScopeMissingError && err.scope === scope && err.message.includes(scope));

describe('granted permissions', () => {
  it('gives transition:generic what an app password may do, except chat', () => {
    const p = GrantedPermissions.of('atproto transition:generic');
    assert.ok(p.allowsRepo({ collection: 'app.bsky.feed.post', action: 'delete' }));
    assert.ok(p.allowsBlob({ mime: 'video/mp4' }));
    assert.ok(p.allowsRpc({ lxm: 'app.bsky.feed.getTimeline', aud: 'did:web:api.bsky.app#bsky_appview' }));
    assert.ok(!p.allowsRpc({ lxm: 'chat.bsky.convo.sendMessage', aud: 'did:web:api.bsky.chat#bsky_chat' }));
    assert.ok(!p.allowsAccount({ attr: 'email', action: 'read' }));
    assert.ok(!p.allowsIdentity({ attr: 'handle' }));
  });

  it('adds chat with transition:chat.bsky and the email with transition:email', () => {
    const p = GrantedPermissions.of('atproto transition:generic transition:chat.bsky transition:email');
    assert.ok(p.allowsRpc({ lxm: 'chat.bsky.convo.sendMessage', aud: 'did:web:api.bsky.chat#bsky_chat' }));
    assert.ok(p.allowsAccount({ attr: 'email', action: 'read' }));
    assert.ok(!p.allowsAccount({ attr: 'email', action: 'manage' }));
  });

  it('limits repo: grants to their collections and actions, naming what is missing', () => {
    const p = GrantedPermissions.of('atproto repo:app.bsky.feed.like?action=create');
    p.assertRepo({ collection: 'app.bsky.feed.like', action: 'create' });
    missing(() => p.assertRepo({ collection: 'app.bsky.feed.like', action: 'delete' }), 'repo:app.bsky.feed.like?action=delete');
    missing(() => p.assertRepo({ collection: 'app.bsky.feed.post', action: 'create' }), 'repo:app.bsky.feed.post?action=create');
  });

  it('matches blob: MIME patterns', () => {
    const p = GrantedPermissions.of('atproto blob:image/*');
    p.assertBlob({ mime: 'image/png' });
    missing(() => p.assertBlob({ mime: 'video/mp4' }), 'blob:video/mp4');
  });

  it('matches rpc: by method and audience, or by method alone for methods this PDS answers', () => {
    const p = GrantedPermissions.of('atproto rpc:app.bsky.actor.getPreferences?aud=did:web:api.bsky.app%23bsky_appview');
    p.assertRpc({ lxm: 'app.bsky.actor.getPreferences', aud: 'did:web:api.bsky.app#bsky_appview' });
    missing(() => p.assertRpc({ lxm: 'app.bsky.actor.getPreferences', aud: 'did:web:other.example#bsky_appview' }), 'rpc:app.bsky.actor.getPreferences?aud=did:web:other.example%23bsky_appview');
    p.assertRpcToAnyAudience('app.bsky.actor.getPreferences');
    missing(() => p.assertRpcToAnyAudience('app.bsky.actor.putPreferences'), 'rpc:app.bsky.actor.putPreferences?aud=*');
  });

  it('reads account: and identity: with their actions and attributes', () => {
    const p = GrantedPermissions.of('atproto account:email?action=manage identity:handle');
    p.assertAccount({ attr: 'email', action: 'read' });
    p.assertAccount({ attr: 'email', action: 'manage' });
    missing(() => p.assertAccount({ attr: 'status', action: 'manage' }), 'account:status?action=manage');
    p.assertIdentity({ attr: 'handle' });
    missing(() => p.assertIdentity({ attr: '*' }), 'identity:*');
  });

  it('ignores scope values it does not understand instead of failing', () => {
    const p = GrantedPermissions.of('atproto repo:not-an-nsid future:thing repo:app.bsky.feed.post');
    assert.ok(p.allowsRepo({ collection: 'app.bsky.feed.post', action: 'create' }));
    assert.ok(!p.allowsRepo({ collection: 'not-an-nsid', action: 'create' }));
  });

  it('compiles each distinct scope string once', () => {
    assert.equal(GrantedPermissions.of('atproto blob:*/*'), GrantedPermissions.of('atproto blob:*/*'));
  });
});

describe('permissions in plain words', () => {
  it('gives one line per permission, the exact scope beside it', () => {
    const lines = describeScopes('atproto transition:generic repo:app.bsky.feed.like?action=create blob:image/* account:email identity:handle rpc:app.bsky.feed.getFeed?aud=*');
    assert.deepEqual(
      lines.map((l) => l.text),
      [
        'Read and change everything in your account except private messages: post, like, follow, upload media, change your preferences',
        'Create records of type app.bsky.feed.like in your public repository',
        'Upload files of type image/*',
        'See your email address',
        'Change your handle',
        'Call app.bsky.feed.getFeed on any service in your name',
      ],
    );
    assert.equal(lines[1].detail, 'repo:app.bsky.feed.like?action=create');
  });

  it('says so when only the identity is asked for', () => {
    assert.deepEqual(describeScopes('atproto').map((l) => l.text), ['Know which account you are (your handle and DID); nothing else']);
  });
});
