import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { eventsOf, logIn, post, signUp, startAccountsEnv, xrpcError, type AccountsEnv } from './helpers/accounts-env.ts';

let env: AccountsEnv;
let admin: AtpAgent;
let headers: { headers: { authorization: string } };
before(async () => {
  env = await startAccountsEnv();
  admin = new AtpAgent({ service: env.url });
  headers = { headers: env.adminHeaders };
});
after(() => env.close());

async function errorOf(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { error: string }).error];
}

describe('admin credentials', () => {
  it('refuses every admin method to a user token with 401, and to nobody with 401', async () => {
    const user = await signUp(env, 'mallory');
    const bearer = { authorization: `Bearer ${user.agent.session!.accessJwt}` };
    const calls: Array<[string, unknown]> = [
      ['com.atproto.admin.updateAccountPassword', { did: user.did, password: 'taken-over-password' }],
      ['com.atproto.admin.deleteAccount', { did: user.did }],
      ['com.atproto.admin.updateSubjectStatus', { subject: { $type: 'com.atproto.admin.defs#repoRef', did: user.did }, takedown: { applied: true } }],
      ['com.atproto.server.createInviteCode', { useCount: 1 }],
      ['com.atproto.admin.sendEmail', { recipientDid: user.did, senderDid: user.did, content: 'hi' }],
    ];
    for (const [nsid, body] of calls) {
      assert.equal((await post(env, nsid, body, bearer)).status, 401, nsid);
      assert.equal((await post(env, nsid, body)).status, 401, nsid);
    }
    const info = await fetch(`${env.url}/xrpc/com.atproto.admin.getAccountInfo?did=${user.did}`, { headers: bearer });
    assert.equal(info.status, 401);
    await logIn(env, user.handle, user.password);
  });
});

describe('account info', () => {
  it('shows an account with its email, invite codes and the code it signed up with', async () => {
    const alice = await signUp(env, 'alice');
    const code = (await admin.com.atproto.server.createInviteCode({ useCount: 2, forAccount: alice.did }, headers)).data.code;
    const info = (await admin.com.atproto.admin.getAccountInfo({ did: alice.did }, headers)).data;
    assert.equal(info.did, alice.did);
    assert.equal(info.handle, alice.handle);
    assert.equal(info.email, alice.email);
    assert.equal(info.invitesDisabled, false);
    assert.equal(info.emailConfirmedAt, undefined);
    assert.ok(!Number.isNaN(Date.parse(info.indexedAt)));
    assert.deepEqual(info.invites?.map((c) => [c.code, c.available, c.forAccount, c.createdBy]), [[code, 2, alice.did, 'admin']]);


    const missing = await xrpcError(admin.com.atproto.admin.getAccountInfo({ did: 'did:plc:zzzzzzzzzzzzzzzzzzzzzzzz' }, headers));
    assert.deepEqual([missing.status, missing.error], [400, 'NotFound']);
  });

  it('answers getAccountInfos for the accounts that exist, in the order asked', async () => {
    const bob = await signUp(env, 'bob');
    const carol = await signUp(env, 'carol');
    const infos = (await admin.com.atproto.admin.getAccountInfos({ dids: [carol.did, 'did:plc:zzzzzzzzzzzzzzzzzzzzzzzz', bob.did, carol.did] }, headers)).data
      .infos;
    assert.deepEqual(infos.map((i) => i.handle), [carol.handle, bob.handle]);
  });
});

describe('admin account changes', () => {
  it('changes a handle at the PLC directory, in the account and on the firehose', async () => {
    const dave = await signUp(env, 'dave');
    const before = env.ctx.sequencer.latestSeq();
    await admin.com.atproto.admin.updateAccountHandle({ did: dave.did, handle: 'David.test' }, headers);
    assert.equal(env.ctx.accounts.byDid(dave.did)!.handle, 'david.test');
    const doc = (await (await fetch(`${env.plc.url}/${dave.did}`)).json()) as { alsoKnownAs: string[] };
    assert.deepEqual(doc.alsoKnownAs, ['at://david.test']);
    const events = eventsOf(env.ctx, dave.did, before);
    assert.deepEqual(events.map((e) => [e.type, e.body.handle]), [['identity', 'david.test']]);
    await logIn(env, 'david.test', dave.password);

    const taken = await xrpcError(admin.com.atproto.admin.updateAccountHandle({ did: dave.did, handle: 'alice.test' }, headers));
    assert.deepEqual([taken.status, taken.error], [400, 'HandleNotAvailable']);
    const missing = await xrpcError(admin.com.atproto.admin.updateAccountHandle({ did: 'did:plc:zzzzzzzzzzzzzzzzzzzzzzzz', handle: 'free.test' }, headers));
    assert.deepEqual([missing.status, missing.error], [400, 'NotFound']);
  });

  it('changes an email by handle or DID; the new address starts unconfirmed', async () => {
    const erin = await signUp(env, 'erin');
    await admin.com.atproto.admin.updateAccountEmail({ account: erin.handle, email: 'Erin.Admin@Example.com' }, headers);
    assert.equal(env.ctx.accounts.byDid(erin.did)!.email, 'erin.admin@example.com');
    await admin.com.atproto.admin.updateAccountEmail({ account: erin.did, email: 'erin3@example.com' }, headers);
    const session = (await erin.agent.com.atproto.server.getSession()).data;
    assert.deepEqual([session.email, session.emailConfirmed], ['erin3@example.com', false]);
    const taken = await xrpcError(admin.com.atproto.admin.updateAccountEmail({ account: erin.did, email: 'alice@example.com' }, headers));
    assert.deepEqual([taken.status, taken.error], [400, 'InvalidRequest']);
  });

  it('sets a password and ends every session of the account', async () => {
    const fay = await signUp(env, 'fay');
    await admin.com.atproto.admin.updateAccountPassword({ did: fay.did, password: 'admin-set-password' }, headers);
    await logIn(env, fay.handle, 'admin-set-password');
    assert.equal((await xrpcError(logIn(env, fay.handle, fay.password))).status, 401);
    const refresh = await post(env, 'com.atproto.server.refreshSession', undefined, { authorization: `Bearer ${fay.agent.session!.refreshJwt}` });
    assert.equal(refresh.status, 401);
    const short = await xrpcError(admin.com.atproto.admin.updateAccountPassword({ did: fay.did, password: 'short' }, headers));
    assert.deepEqual([short.status, short.error], [400, 'InvalidRequest']);
  });

  it('sends an admin email to the account address, as plain text', async () => {
    const gus = await signUp(env, 'gus');
    const sent = await admin.com.atproto.admin.sendEmail(
      { recipientDid: gus.did, senderDid: 'did:plc:moderatoraaaaaaaaaaaaaaa', subject: 'About your account', content: 'Hello <b>Gus</b>\n\nBye' },
      headers,
    );
    assert.equal(sent.data.sent, true);
    const mail = await env.smtp.waitForMessage(gus.email);
    assert.equal(mail.subject, 'About your account');
    assert.match(mail.text, /Hello <b>Gus<\/b>/);
    assert.match(mail.html ?? '', /Hello &lt;b&gt;Gus&lt;\/b&gt;/);
    const missing = await xrpcError(
      admin.com.atproto.admin.sendEmail({ recipientDid: 'did:plc:zzzzzzzzzzzzzzzzzzzzzzzz', senderDid: gus.did, content: 'x' }, headers),
    );
    assert.deepEqual([missing.status, missing.error], [400, 'NotFound']);
  });

  it('deletes an account outright, with its #account deleted event', async () => {
    const hal = await signUp(env, 'hal');
    await hal.agent.post({ text: 'bye', createdAt: new Date().toISOString() });
    await admin.com.atproto.admin.deleteAccount({ did: hal.did }, headers);
    assert.equal(env.ctx.accounts.byDid(hal.did), undefined);
    assert.equal(env.ctx.repo.hasRepo(hal.did), false);
    assert.deepEqual(eventsOf(env.ctx, hal.did).map((e) => [e.type, e.body.status]), [['account', 'deleted']]);
    const again = await xrpcError(admin.com.atproto.admin.deleteAccount({ did: hal.did }, headers));
    assert.deepEqual([again.status, again.error], [400, 'NotFound']);
  });
});

describe('takedowns', () => {
  it('takes an account down and back up, with #account events, and refuses its sessions meanwhile', async () => {
    const ivy = await signUp(env, 'ivy');
    const subject = { $type: 'com.atproto.admin.defs#repoRef', did: ivy.did };
    const refreshJwt = ivy.agent.session!.refreshJwt;
    // an answered request first: the server now holds ivy's state in memory, and must drop it
    assert.equal((await ivy.agent.com.atproto.server.getSession()).data.did, ivy.did);
    const before = env.ctx.sequencer.latestSeq();
    const out = await admin.com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: true, ref: 'mod-action-17' } }, headers);
    assert.deepEqual(out.data.takedown, { applied: true, ref: 'mod-action-17' });

    const status = (await admin.com.atproto.admin.getSubjectStatus({ did: ivy.did }, headers)).data;
    assert.deepEqual(status.subject, subject);
    assert.deepEqual(status.takedown, { applied: true, ref: 'mod-action-17' });
    assert.deepEqual(status.deactivated, { applied: false });

    const refused = await xrpcError(ivy.agent.com.atproto.server.getSession());
    assert.deepEqual([refused.status, refused.error], [401, 'AccountTakedown']);
    const login = await xrpcError(logIn(env, ivy.handle, ivy.password));
    assert.deepEqual([login.status, login.error], [401, 'AccountTakedown']);
    const refresh = await post(env, 'com.atproto.server.refreshSession', undefined, { authorization: `Bearer ${refreshJwt}` });
    assert.equal(refresh.status, 401);
    const repo = (await new AtpAgent({ service: env.url }).com.atproto.sync.getRepoStatus({ did: ivy.did })).data;
    assert.deepEqual([repo.active, repo.status], [false, 'takendown']);

    await admin.com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: false } }, headers);
    assert.deepEqual((await admin.com.atproto.admin.getSubjectStatus({ did: ivy.did }, headers)).data.takedown, { applied: false });
    await logIn(env, ivy.handle, ivy.password);

    assert.deepEqual(
      eventsOf(env.ctx, ivy.did, before).map((e) => [e.type, e.body.active, e.body.status]),
      [
        ['account', false, 'takendown'],
        ['account', true, undefined],
      ],
    );
  });

  it('stamps a takedown without a ref with the time, and deactivates through the deactivated attribute', async () => {
    const jay = await signUp(env, 'jay');
    const subject = { $type: 'com.atproto.admin.defs#repoRef', did: jay.did };
    await admin.com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: true } }, headers);
    const ref = (await admin.com.atproto.admin.getSubjectStatus({ did: jay.did }, headers)).data.takedown?.ref;
    assert.ok(ref && !Number.isNaN(Date.parse(ref)));
    await admin.com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: false }, deactivated: { applied: true } }, headers);
    const status = (await admin.com.atproto.admin.getSubjectStatus({ did: jay.did }, headers)).data;
    assert.deepEqual([status.takedown?.applied, status.deactivated?.applied], [false, true]);
  });

  it('refuses record and blob subjects instead of pretending to act on them', async () => {
    const kim = await signUp(env, 'kim');
    const post1 = await kim.agent.post({ text: 'x', createdAt: new Date().toISOString() });
    const record = await xrpcError(
      admin.com.atproto.admin.updateSubjectStatus(
        { subject: { $type: 'com.atproto.repo.strongRef', uri: post1.uri, cid: post1.cid }, takedown: { applied: true } },
        headers,
      ),
    );
    assert.deepEqual([record.status, record.error], [400, 'InvalidRequest']);
    const byUri = await xrpcError(admin.com.atproto.admin.getSubjectStatus({ uri: post1.uri }, headers));
    assert.deepEqual([byUri.status, byUri.error], [400, 'InvalidRequest']);
    const missing = await xrpcError(admin.com.atproto.admin.getSubjectStatus({ did: 'did:plc:zzzzzzzzzzzzzzzzzzzzzzzz' }, headers));
    assert.deepEqual([missing.status, missing.error], [400, 'NotFound']);
  });
});

describe('invite codes', () => {
  it('creates codes for accounts and for the admin, lists them for their owner, and disables them', async () => {
    const lea = await signUp(env, 'lea');
    const single = (await admin.com.atproto.server.createInviteCode({ useCount: 1 }, headers)).data.code;
    assert.match(single, /^localhost-[a-z2-7]{5}-[a-z2-7]{5}$/);
    const made = (await admin.com.atproto.server.createInviteCodes({ codeCount: 3, useCount: 5, forAccounts: [lea.did] }, headers)).data.codes;
    assert.equal(made.length, 1);
    assert.equal(made[0].account, lea.did);
    assert.equal(made[0].codes.length, 3);

    const mine = (await lea.agent.com.atproto.server.getAccountInviteCodes({})).data.codes;
    assert.deepEqual(mine.map((c) => c.code).sort(), [...made[0].codes].sort());
    assert.ok(mine.every((c) => c.available === 5 && c.disabled === false && c.uses.length === 0 && c.createdBy === 'admin'));

    await admin.com.atproto.admin.disableInviteCodes({ codes: [made[0].codes[0]] }, headers);
    assert.equal((await lea.agent.com.atproto.server.getAccountInviteCodes({})).data.codes.length, 2);
    await admin.com.atproto.admin.disableInviteCodes({ accounts: [lea.did] }, headers);
    assert.equal((await lea.agent.com.atproto.server.getAccountInviteCodes({})).data.codes.length, 0);

    const adminCodes = await xrpcError(admin.com.atproto.admin.disableInviteCodes({ accounts: ['admin'] }, headers));
    assert.deepEqual([adminCodes.status, adminCodes.error], [400, 'InvalidRequest']);
    const zero = await xrpcError(admin.com.atproto.server.createInviteCode({ useCount: 0 }, headers));
    assert.deepEqual([zero.status, zero.error], [400, 'InvalidRequest']);
    const tooMany = await xrpcError(admin.com.atproto.server.createInviteCodes({ codeCount: 1001, useCount: 1 }, headers));
    assert.deepEqual([tooMany.status, tooMany.error], [400, 'InvalidRequest']);
  });

  it('creates codes disabled for an account barred from invites, until it is allowed again', async () => {
    const max = await signUp(env, 'max');
    await admin.com.atproto.admin.disableAccountInvites({ account: max.did, note: 'spam' }, headers);
    assert.equal((await admin.com.atproto.admin.getAccountInfo({ did: max.did }, headers)).data.invitesDisabled, true);
    await admin.com.atproto.server.createInviteCode({ useCount: 1, forAccount: max.did }, headers);
    assert.equal((await max.agent.com.atproto.server.getAccountInviteCodes({})).data.codes.length, 0);
    await admin.com.atproto.admin.enableAccountInvites({ account: max.did }, headers);
    assert.equal((await admin.com.atproto.admin.getAccountInfo({ did: max.did }, headers)).data.invitesDisabled, false);
    await admin.com.atproto.server.createInviteCode({ useCount: 1, forAccount: max.did }, headers);
    assert.equal((await max.agent.com.atproto.server.getAccountInviteCodes({})).data.codes.length, 1);
  });

  it('pages through every code by recency and by usage without gaps or repeats', async () => {
    const all = new Set(env.ctx.db.prepare('SELECT code FROM invite_code').all().map((r) => (r as { code: string }).code));
    for (const sort of ['recent', 'usage'] as const) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = (await admin.com.atproto.admin.getInviteCodes({ sort, limit: 2, cursor }, headers)).data;
        seen.push(...page.codes.map((c) => c.code));
        cursor = page.cursor;
      } while (cursor);
      assert.equal(seen.length, all.size, sort);
      assert.deepEqual(new Set(seen), all, sort);
    }
  });
});

describe('on a server that requires invites', () => {
  let closed: AccountsEnv;
  before(async () => {
    closed = await startAccountsEnv({ PDS_INVITE_REQUIRED: 'true' });
  });
  after(() => closed.close());

  it('shows who signed up with a code, to the admin and to the code owner', async () => {
    const root = new AtpAgent({ service: closed.url });
    const auth = { headers: closed.adminHeaders };
    const first = (await root.com.atproto.server.createInviteCode({ useCount: 1 }, auth)).data.code;
    const owner = await root.createAccount({ handle: 'owner.test', email: 'owner@example.com', password: 'owner-password', inviteCode: first });
    const code = (await root.com.atproto.server.createInviteCode({ useCount: 2, forAccount: owner.data.did }, auth)).data.code;
    const guest = await new AtpAgent({ service: closed.url }).createAccount({
      handle: 'guest.test',
      email: 'guest@example.com',
      password: 'guest-password',
      inviteCode: code,
    });

    const info = (await root.com.atproto.admin.getAccountInfo({ did: guest.data.did }, auth)).data;
    assert.equal(info.invitedBy?.code, code);
    assert.deepEqual(info.invitedBy?.uses.map((u) => u.usedBy), [guest.data.did]);
    const mine = (await root.com.atproto.server.getAccountInviteCodes({}, { headers: { authorization: `Bearer ${owner.data.accessJwt}` } })).data.codes;
    assert.deepEqual(mine.map((c) => [c.code, c.uses.length]), [[code, 1]]);

    // Most used first: the code used once comes before any unused one.
    const byUsage = (await root.com.atproto.admin.getInviteCodes({ sort: 'usage', limit: 10 }, auth)).data.codes;
    assert.deepEqual(byUsage.map((c) => c.uses.length), [1, 1]);
    const adminOnly = (await root.com.atproto.server.createInviteCode({ useCount: 1 }, auth)).data.code;
    const again = (await root.com.atproto.admin.getInviteCodes({ sort: 'usage', limit: 10 }, auth)).data.codes;
    assert.equal(again.at(-1)?.code, adminOnly);
  });
});
