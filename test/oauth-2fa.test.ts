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

const pendingOf = (html: string) => /name="pending" value="([^"]+)"/.exec(html)?.[1];
const mailedCode = async (email: string) => /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec((await env.smtp.waitForMessage(email)).text)![0];
const heading = (html: string) => /<h1[^>]*>([^<]*)</.exec(html)?.[1].trim();

describe('email as a second factor on the OAuth sign-in page', () => {
  it('asks for the password, then for the mailed code alone, and signs in with it', async () => {
    const ann = await twoFactorUser('oauth-2fa-ann');
    const browser = new PageSession(env.server.server.ctx.oauth.issuer);
    const { post } = await openRequest(browser);
    const first = await post({ identifier: ann.handle, password: ann.password });
    assert.equal(first.status, 401);
    assert.equal(heading(first.text), 'Enter the code from your email');
    assert.match(first.text, /We sent a sign-in code to your email address/);
    assert.match(first.text, /<label for="code">Code from your email<\/label>/);
    assert.match(first.text, new RegExp(`Signing in as <strong>@${ann.handle.replaceAll('.', '\\.')}</strong>`));
    assert.doesNotMatch(first.text, /type="password"/, 'the password is not asked again');
    assert.doesNotMatch(first.text, /name="identifier"/);
    const pending = pendingOf(first.text)!;
    assert.ok(pending.length >= 32, 'the code step carries a random id, not the password');
    assert.doesNotMatch(first.text, new RegExp(ann.password));
    const code = await mailedCode(ann.email);

    const wrong = await post({ pending, code: 'AAAAA-AAAAA' });
    assert.equal(wrong.status, 401);
    assert.match(wrong.text, /That code is wrong/);
    assert.equal(pendingOf(wrong.text), pending, 'a wrong code keeps the step');

    const signedIn = await post({ pending, code });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 300));
    const consent = await browser.get(signedIn.location!);
    assert.match(consent.text, /name="decision" value="allow"/);

    // Single use: the step is gone once it signed in.
    const again = await post({ pending, code });
    assert.equal(again.status, 401);
    assert.equal(heading(again.text), 'Sign in');
    assert.match(again.text, /This sign-in has expired\. Enter your password again\./);
  });

  it('binds the code step to its authorization request, and drops it after five wrong codes', async () => {
    const dan = await twoFactorUser('oauth-2fa-dan');
    const browser = new PageSession(env.server.server.ctx.oauth.issuer);
    const one = await openRequest(browser);
    const pending = pendingOf((await one.post({ identifier: dan.handle, password: dan.password })).text)!;
    const code = await mailedCode(dan.email);

    // The same browser, another request: the step does not carry over.
    const other = await openRequest(browser);
    const elsewhere = await other.post({ pending, code });
    assert.equal(elsewhere.status, 401);
    assert.match(elsewhere.text, /This sign-in has expired/);

    for (let i = 1; i < 5; i++) {
      const wrong = await one.post({ pending, code: 'AAAAA-AAAAA' });
      assert.equal(pendingOf(wrong.text), pending, `wrong code ${i} keeps the step`);
    }
    const fifth = await one.post({ pending, code: 'AAAAA-AAAAA' });
    assert.equal(fifth.status, 401);
    assert.equal(heading(fifth.text), 'Sign in');
    assert.match(fifth.text, /Too many wrong codes\. Enter your password again/);
    assert.match(fifth.text, /type="password"/);
    const late = await one.post({ pending, code });
    assert.match(late.text, /This sign-in has expired/, 'the right code no longer helps once the step is dropped');
  });

  it('voids the code step when the password changes in between', async () => {
    const eve = await twoFactorUser('oauth-2fa-eve');
    const { post } = await openRequest(new PageSession(env.server.server.ctx.oauth.issuer));
    const pending = pendingOf((await post({ identifier: eve.handle, password: eve.password })).text)!;
    const code = await mailedCode(eve.email);
    await eve.agent.com.atproto.server.requestPasswordReset({ email: eve.email });
    const reset = await env.smtp.waitForToken(eve.email);
    await eve.agent.com.atproto.server.resetPassword({ token: reset, password: 'a-new-password-1' });
    const answer = await post({ pending, code });
    assert.equal(answer.status, 401);
    assert.match(answer.text, /This sign-in has expired\. Enter your password again\./);
    assert.match(answer.text, /type="password"/);
  });

  it('still takes the password and the code sent together', async () => {
    const fay = await twoFactorUser('oauth-2fa-fay');
    const { post } = await openRequest(new PageSession(env.server.server.ctx.oauth.issuer));
    await post({ identifier: fay.handle, password: fay.password });
    const code = await mailedCode(fay.email);
    const signedIn = await post({ identifier: fay.handle, password: fay.password, code });
    assert.equal(signedIn.status, 303, signedIn.text.slice(0, 300));
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
    const forged = await post({ pending: 'A'.repeat(32), code: 'AAAAA-AAAAA' });
    assert.equal(forged.status, 401);
    assert.match(forged.text, /This sign-in has expired/);
  });

  it('guards the authorized-apps page the same way, asking for the code alone', async () => {
    const cat = await twoFactorUser('oauth-2fa-cat');
    const browser = new PageSession(env.server.server.ctx.oauth.issuer);
    const page = await browser.get('/oauth/account');
    const post = (fields: Record<string, string>) => browser.post('/oauth/account/sign-in', { csrf: csrfOf(page.text), ...fields });
    const first = await post({ identifier: cat.handle, password: cat.password });
    assert.equal(first.status, 401);
    assert.match(first.text, /Code from your email/);
    assert.doesNotMatch(first.text, /type="password"/);
    const code = await mailedCode(cat.email);
    const signedIn = await post({ pending: pendingOf(first.text)!, code });
    assert.equal(signedIn.status, 303);
    assert.match((await browser.get('/oauth/account')).text, /Your authorized apps/);
  });
});
