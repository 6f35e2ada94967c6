// Email as a second sign-in factor (emailAuthFactor), through the official client, with the
// codes read from the mail the real SMTP test server received.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { ageEmailToken, logIn, signUp, startAccountsEnv, xrpcError, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';

let env: AccountsEnv;
before(async () => {
  env = await startAccountsEnv();
});
after(() => env.close());

async function confirmAddress(user: SignedUp): Promise<void> {
  await user.agent.com.atproto.server.requestEmailConfirmation();
  await user.agent.com.atproto.server.confirmEmail({ email: user.email, token: await env.smtp.waitForToken(user.email) });
}

/** Turns the factor on or off as the official app does: a code to the address, then updateEmail with it. */
async function setFactor(user: SignedUp, on: boolean): Promise<void> {
  assert.equal((await user.agent.com.atproto.server.requestEmailUpdate()).data.tokenRequired, true);
  const token = await env.smtp.waitForToken(user.email);
  await user.agent.com.atproto.server.updateEmail({ email: user.email, emailAuthFactor: on, token });
}

/** A user with a confirmed address and the factor on. */
async function twoFactorUser(name: string): Promise<SignedUp> {
  const user = await signUp(env, name);
  await confirmAddress(user);
  await setFactor(user, true);
  return user;
}

const signIn = (user: SignedUp, authFactorToken?: string) =>
  new AtpAgent({ service: env.url }).login({ identifier: user.handle, password: user.password, ...(authFactorToken ? { authFactorToken } : {}) });

describe('email as a second sign-in factor', () => {
  it('is turned on with the code mailed to the confirmed address, and sessions say so', async () => {
    const ann = await signUp(env, 'ann');
    await confirmAddress(ann);
    assert.equal((await ann.agent.com.atproto.server.getSession()).data.emailAuthFactor, false);
    await setFactor(ann, true);
    assert.equal((await ann.agent.com.atproto.server.getSession()).data.emailAuthFactor, true);
  });

  it('makes a password sign-in answer AuthFactorTokenRequired and mail a code, which then signs in once', async () => {
    const ben = await twoFactorUser('ben');
    const first = await xrpcError(signIn(ben));
    assert.deepEqual([first.status, first.error], [401, 'AuthFactorTokenRequired']);
    const mail = await env.smtp.waitForMessage(ben.email);
    assert.equal(mail.subject, 'Sign-in Code');
    const code = /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec(mail.text)![0];

    const { data } = await signIn(ben, code);
    assert.equal(data.did, ben.did);
    assert.equal(data.emailAuthFactor, true);
    const reused = await xrpcError(signIn(ben, code));
    assert.deepEqual([reused.status, reused.error], [400, 'InvalidToken']);
  });

  it('refuses a wrong code and an expired one', async () => {
    const cat = await twoFactorUser('cat');
    await xrpcError(signIn(cat));
    const code = await env.smtp.waitForToken(cat.email);
    const wrong = await xrpcError(signIn(cat, 'AAAAA-BBBBB'));
    assert.deepEqual([wrong.status, wrong.error], [400, 'InvalidToken']);
    ageEmailToken(env.ctx, cat.did, 'sign_in');
    const expired = await xrpcError(signIn(cat, code));
    assert.deepEqual([expired.status, expired.error], [400, 'ExpiredToken']);
  });

  it('mails nothing for a wrong password, and a code never stands in for the password', async () => {
    const dan = await twoFactorUser('dan');
    const mailed = env.smtp.messages.length;
    const wrong = await xrpcError(new AtpAgent({ service: env.url }).login({ identifier: dan.handle, password: 'not-the-password' }));
    assert.deepEqual([wrong.status, wrong.error], [401, 'AuthenticationRequired']);
    assert.equal(env.smtp.messages.length, mailed);

    await xrpcError(signIn(dan));
    const code = await env.smtp.waitForToken(dan.email);
    const guessed = await xrpcError(new AtpAgent({ service: env.url }).login({ identifier: dan.handle, password: 'not-the-password', authFactorToken: code }));
    assert.deepEqual([guessed.status, guessed.error], [401, 'AuthenticationRequired']);
  });

  it('lets app passwords sign in without a code, as in the official PDS', async () => {
    const eve = await twoFactorUser('eve');
    const { password } = (await eve.agent.com.atproto.server.createAppPassword({ name: 'reader' })).data;
    const mailed = env.smtp.messages.length;
    const app = await logIn(env, eve.handle, password);
    assert.equal(app.session!.did, eve.did);
    assert.equal(env.smtp.messages.length, mailed);
  });

  it('takes a code to turn off, after which the password alone signs in again', async () => {
    const fox = await twoFactorUser('fox');
    const noCode = await xrpcError(fox.agent.com.atproto.server.updateEmail({ email: fox.email, emailAuthFactor: false }));
    assert.deepEqual([noCode.status, noCode.error], [400, 'TokenRequired']);
    await setFactor(fox, false);
    const { data } = await signIn(fox);
    assert.equal(data.emailAuthFactor, false);
  });

  it('is refused for an unconfirmed address, or together with a change of address', async () => {
    const gil = await signUp(env, 'gil');
    const unconfirmed = await xrpcError(gil.agent.com.atproto.server.updateEmail({ email: gil.email, emailAuthFactor: true }));
    assert.deepEqual([unconfirmed.status, unconfirmed.error], [400, 'InvalidRequest']);
    await confirmAddress(gil);
    await gil.agent.com.atproto.server.requestEmailUpdate();
    const token = await env.smtp.waitForToken(gil.email);
    const moving = await xrpcError(gil.agent.com.atproto.server.updateEmail({ email: 'gil2@example.com', emailAuthFactor: true, token }));
    assert.deepEqual([moving.status, moving.error], [400, 'InvalidRequest']);
    assert.equal((await gil.agent.com.atproto.server.getSession()).data.emailAuthFactor, false);
  });
});
