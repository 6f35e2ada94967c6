import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { ageEmailToken, logIn, post, signUp, startAccountsEnv, xrpcError, type AccountsEnv } from './helpers/accounts-env.ts';

let env: AccountsEnv;
before(async () => {
  env = await startAccountsEnv();
});
after(() => env.close());

describe('email confirmation', () => {
  it('confirms the address with the code mailed to it, once', async () => {
    const alice = await signUp(env, 'alice');
    await alice.agent.com.atproto.server.requestEmailConfirmation();
    const mail = await env.smtp.waitForMessage(alice.email);
    assert.equal(mail.subject, 'Email Confirmation');
    assert.equal(mail.from, 'noreply@squall.test');
    const token = /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec(mail.text)![0];

    const wrongEmail = await xrpcError(alice.agent.com.atproto.server.confirmEmail({ email: 'other@example.com', token }));
    assert.deepEqual([wrongEmail.status, wrongEmail.error], [400, 'InvalidEmail']);
    const wrongToken = await xrpcError(alice.agent.com.atproto.server.confirmEmail({ email: alice.email, token: 'AAAAA-BBBBB' }));
    assert.deepEqual([wrongToken.status, wrongToken.error], [400, 'InvalidToken']);

    assert.equal((await alice.agent.com.atproto.server.getSession()).data.emailConfirmed, false);
    await alice.agent.com.atproto.server.confirmEmail({ email: alice.email.toUpperCase(), token: token.toLowerCase() });
    assert.equal((await alice.agent.com.atproto.server.getSession()).data.emailConfirmed, true);

    const reused = await xrpcError(alice.agent.com.atproto.server.confirmEmail({ email: alice.email, token }));
    assert.deepEqual([reused.status, reused.error], [400, 'InvalidToken']);
  });

  it('refuses a code older than fifteen minutes as ExpiredToken', async () => {
    const bob = await signUp(env, 'bob');
    await bob.agent.com.atproto.server.requestEmailConfirmation();
    const token = await env.smtp.waitForToken(bob.email);
    ageEmailToken(env.ctx, bob.did, 'confirm_email');
    const expired = await xrpcError(bob.agent.com.atproto.server.confirmEmail({ email: bob.email, token }));
    assert.deepEqual([expired.status, expired.error], [400, 'ExpiredToken']);
    assert.equal((await bob.agent.com.atproto.server.getSession()).data.emailConfirmed, false);
  });

  it('lets an app-password session ask for and use a confirmation code', async () => {
    const carol = await signUp(env, 'carol');
    const appPassword = (await carol.agent.com.atproto.server.createAppPassword({ name: 'phone' })).data.password;
    const app = await logIn(env, carol.handle, appPassword);
    await app.com.atproto.server.requestEmailConfirmation();
    await app.com.atproto.server.confirmEmail({ email: carol.email, token: await env.smtp.waitForToken(carol.email) });
    assert.equal((await carol.agent.com.atproto.server.getSession()).data.emailConfirmed, true);
  });

  it('needs a session', async () => {
    const res = await post(env, 'com.atproto.server.requestEmailConfirmation', {});
    assert.equal(res.status, 401);
  });
});

describe('email update', () => {
  it('changes an unconfirmed address without a code', async () => {
    const dave = await signUp(env, 'dave');
    const asked = await dave.agent.com.atproto.server.requestEmailUpdate();
    assert.equal(asked.data.tokenRequired, false);
    await dave.agent.com.atproto.server.updateEmail({ email: 'Dave.New@Example.com' });
    const session = await dave.agent.com.atproto.server.getSession();
    assert.equal(session.data.email, 'dave.new@example.com');
    assert.equal(session.data.emailConfirmed, false);
    // No code was mailed for an unconfirmed address.
    await assert.rejects(env.smtp.waitForMessage(dave.email, { timeoutMs: 200 }));
  });

  it('needs the code mailed to the current, confirmed address', async () => {
    const erin = await signUp(env, 'erin');
    await erin.agent.com.atproto.server.requestEmailConfirmation();
    await erin.agent.com.atproto.server.confirmEmail({ email: erin.email, token: await env.smtp.waitForToken(erin.email) });

    const asked = await erin.agent.com.atproto.server.requestEmailUpdate();
    assert.equal(asked.data.tokenRequired, true);
    const mail = await env.smtp.waitForMessage(erin.email);
    assert.equal(mail.subject, 'Email Update Requested');
    const token = /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec(mail.text)![0];

    const missing = await xrpcError(erin.agent.com.atproto.server.updateEmail({ email: 'erin2@example.com' }));
    assert.deepEqual([missing.status, missing.error], [400, 'TokenRequired']);
    const wrong = await xrpcError(erin.agent.com.atproto.server.updateEmail({ email: 'erin2@example.com', token: 'ZZZZZ-ZZZZZ' }));
    assert.deepEqual([wrong.status, wrong.error], [400, 'InvalidToken']);

    await erin.agent.com.atproto.server.updateEmail({ email: 'erin2@example.com', token });
    const session = await erin.agent.com.atproto.server.getSession();
    assert.equal(session.data.email, 'erin2@example.com');
    assert.equal(session.data.emailConfirmed, false);

    // The code is spent, and the new, unconfirmed address needs none for the next change.
    const left = env.ctx.db.prepare('SELECT count(*) AS n FROM email_token WHERE did = ?').get(erin.did) as { n: number };
    assert.equal(left.n, 0);
    assert.equal((await erin.agent.com.atproto.server.requestEmailUpdate()).data.tokenRequired, false);
  });

  it('refuses an expired update code', async () => {
    const fay = await signUp(env, 'fay');
    await fay.agent.com.atproto.server.requestEmailConfirmation();
    await fay.agent.com.atproto.server.confirmEmail({ email: fay.email, token: await env.smtp.waitForToken(fay.email) });
    await fay.agent.com.atproto.server.requestEmailUpdate();
    const token = await env.smtp.waitForToken(fay.email);
    ageEmailToken(env.ctx, fay.did, 'update_email');
    const expired = await xrpcError(fay.agent.com.atproto.server.updateEmail({ email: 'fay2@example.com', token }));
    assert.deepEqual([expired.status, expired.error], [400, 'ExpiredToken']);
    assert.equal((await fay.agent.com.atproto.server.getSession()).data.email, fay.email);
  });

  it('refuses an address another account has, and a malformed one', async () => {
    const gus = await signUp(env, 'gus');
    const taken = await xrpcError(gus.agent.com.atproto.server.updateEmail({ email: 'ALICE@example.com' }));
    assert.deepEqual([taken.status, taken.error], [400, 'InvalidRequest']);
    const malformed = await xrpcError(gus.agent.com.atproto.server.updateEmail({ email: 'not-an-email' }));
    assert.deepEqual([malformed.status, malformed.error], [400, 'InvalidEmail']);
    const factor = await xrpcError(gus.agent.com.atproto.server.updateEmail({ email: 'gus2@example.com', emailAuthFactor: true }));
    assert.deepEqual([factor.status, factor.error], [400, 'InvalidRequest']);
    assert.equal((await gus.agent.com.atproto.server.getSession()).data.email, gus.email);
  });

  it('refuses an app-password session with 403 on both steps, privileged or not', async () => {
    const hal = await signUp(env, 'hal');
    const appPassword = (await hal.agent.com.atproto.server.createAppPassword({ name: 'client' })).data.password;
    const app = await logIn(env, hal.handle, appPassword);
    for (const call of [app.com.atproto.server.requestEmailUpdate(), app.com.atproto.server.updateEmail({ email: 'hal2@example.com' })]) {
      assert.equal((await xrpcError(call)).status, 403);
    }
    const privileged = (await hal.agent.com.atproto.server.createAppPassword({ name: 'admin-app', privileged: true })).data.password;
    const priv = await logIn(env, hal.handle, privileged);
    for (const call of [priv.com.atproto.server.requestEmailUpdate(), priv.com.atproto.server.updateEmail({ email: 'hal2@example.com' })]) {
      assert.equal((await xrpcError(call)).status, 403);
    }
    assert.equal((await hal.agent.com.atproto.server.getSession()).data.email, hal.email);
  });
});

describe('password reset', () => {
  it('answers the same for an unknown address and mails nothing', async () => {
    const res = await post(env, 'com.atproto.server.requestPasswordReset', { email: 'nobody@example.com' });
    assert.equal(res.status, 200);
    await assert.rejects(env.smtp.waitForMessage('nobody@example.com', { timeoutMs: 200 }));
  });

  it('sets a new password with the mailed code and ends every session', async () => {
    const ivy = await signUp(env, 'ivy');
    const other = await logIn(env, ivy.handle, ivy.password);
    const anon = new AtpAgent({ service: env.url });
    await anon.com.atproto.server.requestPasswordReset({ email: ivy.email.toUpperCase() });
    const mail = await env.smtp.waitForMessage(ivy.email);
    assert.equal(mail.subject, 'Password Reset Requested');
    assert.match(mail.text, /@ivy\.test/);
    const token = /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec(mail.text)![0];

    const wrong = await xrpcError(anon.com.atproto.server.resetPassword({ token: 'AAAAA-AAAAA', password: 'brand-new-password' }));
    assert.deepEqual([wrong.status, wrong.error], [400, 'InvalidToken']);
    const short = await xrpcError(anon.com.atproto.server.resetPassword({ token, password: 'short' }));
    assert.deepEqual([short.status, short.error], [400, 'InvalidRequest']);

    await anon.com.atproto.server.resetPassword({ token, password: 'brand-new-password' });
    await logIn(env, ivy.handle, 'brand-new-password');
    assert.equal((await xrpcError(logIn(env, ivy.handle, ivy.password))).status, 401);

    // Every refresh token of the account is gone.
    for (const agent of [ivy.agent, other]) {
      const res = await post(env, 'com.atproto.server.refreshSession', undefined, { authorization: `Bearer ${agent.session!.refreshJwt}` });
      assert.equal(res.status, 401);
    }
    const reused = await xrpcError(anon.com.atproto.server.resetPassword({ token, password: 'another-password-2' }));
    assert.deepEqual([reused.status, reused.error], [400, 'InvalidToken']);
  });

  it('refuses an expired reset code', async () => {
    const jay = await signUp(env, 'jay');
    await post(env, 'com.atproto.server.requestPasswordReset', { email: jay.email });
    const token = await env.smtp.waitForToken(jay.email);
    ageEmailToken(env.ctx, jay.did, 'reset_password');
    const res = await post(env, 'com.atproto.server.resetPassword', { token, password: 'brand-new-password' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'ExpiredToken');
    await logIn(env, jay.handle, jay.password);
  });
});
