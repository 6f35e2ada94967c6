// Email as a second sign-in factor on the OAuth pages: an account that turned it on signs in to
// apps with its password and the code mailed to it, as createSession asks (codes read from the
// mail the real SMTP test server received).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signUp, startAccountsEnv, type AccountsEnv, type SignedUp } from './helpers/accounts-env.ts';
import { csrfOf, DpopKey, ManualClient, PageSession } from './helpers/oauth-manual.ts';

let env: AccountsEnv;
before(async () => {
  env = await startAccountsEnv();
});
after(() => env.close());

/** A user with a confirmed address and the factor on, turned on as the official app does. */
async function twoFactorUser(name: string): Promise<SignedUp> {
  const user = await signUp(env, name);
  await user.agent.com.atproto.server.requestEmailConfirmation();
  await user.agent.com.atproto.server.confirmEmail({ email: user.email, token: await env.smtp.waitForToken(user.email) });
  await user.agent.com.atproto.server.requestEmailUpdate();
  await user.agent.com.atproto.server.updateEmail({ email: user.email, emailAuthFactor: true, token: await env.smtp.waitForToken(user.email) });
  return user;
}

async function openRequest(browser: PageSession) {
  const client = new ManualClient(env.server.server.ctx.oauth.issuer, await DpopKey.generate(), 'atproto transition:generic');
  const { requestUri } = await client.par();
  const page = await browser.get(`/oauth/authorize?request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(client.clientId)}`);
  const post = (fields: Record<string, string>) => browser.post('/oauth/authorize/sign-in', { request_uri: requestUri, client_id: client.clientId, csrf: csrfOf(page.text), ...fields });
  return { post };
}

describe('email as a second factor on the OAuth sign-in page', () => {
  it('asks for the mailed code after the password, and signs in with both', async () => {
    const ann = await twoFactorUser('oauth-2fa-ann');
    const browser = new PageSession(env.server.server.ctx.oauth.issuer);
    const { post } = await openRequest(browser);
    const first = await post({ identifier: ann.handle, password: ann.password });
    assert.equal(first.status, 401);
    assert.match(first.text, /We sent a sign-in code to your email address/);
    assert.match(first.text, /<label for="code">Code from your email<\/label>/);
    const code = /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec((await env.smtp.waitForMessage(ann.email)).text)![0];

    const wrong = await post({ identifier: ann.handle, password: ann.password, code: 'AAAAA-AAAAA' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /That code is wrong or has expired/);

    const signedIn = await post({ identifier: ann.handle, password: ann.password, code });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 300));
    const consent = await browser.get(signedIn.location!);
    assert.match(consent.text, /name="decision" value="allow"/);
  });

  it('mails nothing for a wrong password, and a code alone does not sign in', async () => {
    const ben = await twoFactorUser('oauth-2fa-ben');
    const { post } = await openRequest(new PageSession(env.server.server.ctx.oauth.issuer));
    const wrong = await post({ identifier: ben.handle, password: 'not-the-password' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /Wrong handle, email or password/);
    assert.doesNotMatch(wrong.text, /Code from your email/);
    assert.equal(env.smtp.messages.filter((m) => m.envelopeTo.includes(ben.email) && m.subject === 'Sign-in Code').length, 0, 'no code mailed');
    const codeOnly = await post({ identifier: ben.handle, password: 'not-the-password', code: 'AAAAA-AAAAA' });
    assert.equal(codeOnly.status, 401);
    assert.match(codeOnly.text, /Wrong handle, email or password/);
  });

  it('guards the authorized-apps page the same way', async () => {
    const cat = await twoFactorUser('oauth-2fa-cat');
    const browser = new PageSession(env.server.server.ctx.oauth.issuer);
    const page = await browser.get('/oauth/account');
    const post = (fields: Record<string, string>) => browser.post('/oauth/account/sign-in', { csrf: csrfOf(page.text), ...fields });
    const first = await post({ identifier: cat.handle, password: cat.password });
    assert.equal(first.status, 401);
    assert.match(first.text, /Code from your email/);
    const code = /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec((await env.smtp.waitForMessage(cat.email)).text)![0];
    const signedIn = await post({ identifier: cat.handle, password: cat.password, code });
    assert.equal(signedIn.status, 303);
    assert.match((await browser.get('/oauth/account')).text, /Your authorized apps/);
  });
});
