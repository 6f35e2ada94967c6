// The authorization request's `login_hint` and `prompt` on the pages, and the sign-in page's rate
// limits, which it shares with createSession (one set of buckets wherever a password is typed).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import { csrfOf, DpopKey, ManualClient, PageSession } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

let plc: TestPlc;
let server: TestServer;
const PASSWORD = 'prompt-password-1';
const ALICE = 'prompt-alice.test';
const DAVE = 'prompt-dave.test';

before(async () => {
  plc = await startTestPlc();
  server = await startTestServer({ PDS_DID_PLC_URL: plc.url, PDS_RATE_LIMITS_ENABLED: 'true' });
  for (const name of ['alice', 'bob', 'carol', 'dave']) {
    await new AtpAgent({ service: server.url }).createAccount({ handle: `prompt-${name}.test`, email: `${name}@example.com`, password: PASSWORD });
  }
});
after(async () => {
  await server.close();
  await plc.close();
});

const issuer = () => server.server.ctx.oauth.issuer;

/** Pushes a request and opens its first page in `browser` (a cookie jar standing in for one). */
async function open(browser: PageSession, par: Record<string, string> = {}) {
  const client = new ManualClient(issuer(), await DpopKey.generate(), 'atproto transition:generic');
  const { requestUri } = await client.par(par);
  const page = await browser.get(`/oauth/authorize?request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(client.clientId)}`);
  return { client, requestUri, page };
}

function heading(html: string): string | undefined {
  return /<h1[^>]*>([^<]*)</.exec(html)?.[1].trim();
}

async function signIn(browser: PageSession, requestUri: string, clientId: string, html: string, identifier: string, password = PASSWORD) {
  return browser.post('/oauth/authorize/sign-in', { request_uri: requestUri, client_id: clientId, csrf: csrfOf(html), identifier, password, remember: '1' });
}

describe('login_hint and prompt', () => {
  it('fills in the login_hint and keeps it fixed on the sign-in page', async () => {
    const { page } = await open(new PageSession(issuer()), { login_hint: ALICE });
    assert.equal(page.status, 200);
    assert.match(page.text, new RegExp(`id="identifier"[^>]*value="${ALICE.replace('.', '\\.')}"[^>]* readonly`));
  });

  it('shows the remembered accounts; prompt=login asks for a password anyway; a hinted remembered account goes straight to consent unless prompt=select_account', async () => {
    const browser = new PageSession(issuer());
    const first = await open(browser);
    const signedIn = await signIn(browser, first.requestUri, first.client.clientId, first.page.text, ALICE);
    assert.equal(signedIn.status, 303);

    const again = await open(browser);
    assert.equal(heading(again.page.text), 'Choose an account');
    assert.match(again.page.text, /@prompt-alice\.test/);

    const login = await open(browser, { prompt: 'login' });
    assert.equal(heading(login.page.text), 'Sign in');

    const hinted = await open(browser, { login_hint: ALICE });
    assert.match(hinted.page.text, /Authorize/);
    assert.match(hinted.page.text, /name="decision" value="allow"/);

    // select_account: not straight to consent, but the chooser (the next test has the details).
    const choose = await open(browser, { login_hint: ALICE, prompt: 'select_account' });
    assert.equal(heading(choose.page.text), 'Choose an account');
  });

  it('prompt=select_account with a login_hint shows the chooser with the hinted account first, marked and focused; picking it leads to consent', async () => {
    const browser = new PageSession(issuer());
    for (const handle of [ALICE, DAVE]) {
      const { requestUri, client, page } = await open(browser);
      assert.equal((await signIn(browser, requestUri, client.clientId, page.text, handle)).status, 303);
    }
    const accountButtons = (html: string) => [...html.matchAll(/<button type="submit" name="did" value="([^"]+)"([^>]*)><span class="handle">@([^<]+)</g)].map((m) => ({ did: m[1], attributes: m[2], handle: m[3] }));
    const plain = await open(browser);
    const unhinted = accountButtons(plain.page.text);
    assert.deepEqual(unhinted.map((b) => b.handle).sort(), [ALICE, DAVE].sort());
    assert.ok(unhinted.every((b) => !b.attributes.includes('autofocus')), 'no account is suggested without a hint');
    // Hint whichever account the plain chooser lists last, so its moving up is the hint's doing.
    const hinted = unhinted[unhinted.length - 1];

    const choose = await open(browser, { login_hint: hinted.handle, prompt: 'select_account' });
    assert.equal(choose.page.status, 200);
    assert.equal(heading(choose.page.text), 'Choose an account');
    const buttons = accountButtons(choose.page.text);
    assert.deepEqual(buttons.map((b) => b.handle), [hinted.handle, unhinted[0].handle]);
    assert.match(buttons[0].attributes, /autofocus/);
    assert.match(buttons[0].attributes, /aria-describedby="suggested"/);
    assert.match(choose.page.text, /<span class="suggested" id="suggested">Requested by the app<\/span>/);
    assert.doesNotMatch(buttons[1].attributes, /autofocus/);

    const picked = await browser.post('/oauth/authorize/select', { request_uri: choose.requestUri, client_id: choose.client.clientId, csrf: csrfOf(choose.page.text), did: hinted.did });
    assert.equal(picked.status, 303);
    const consent = await browser.get(picked.location!);
    assert.match(consent.text, new RegExp(`Signed in as <strong>@${hinted.handle.replace('.', '\\.')}</strong>`));
    assert.match(consent.text, /name="decision" value="allow"/);
  });

  it('prompt=select_account with a login_hint no account on this device matches shows the chooser of the others, and "Use another account" signs in as the hinted one', async () => {
    const browser = new PageSession(issuer());
    const first = await open(browser);
    assert.equal((await signIn(browser, first.requestUri, first.client.clientId, first.page.text, DAVE)).status, 303);
    const choose = await open(browser, { login_hint: ALICE, prompt: 'select_account' });
    assert.equal(heading(choose.page.text), 'Choose an account');
    assert.match(choose.page.text, /@prompt-dave\.test/);
    assert.doesNotMatch(choose.page.text, /Requested by the app/);
    const other = /<a href="([^"]+)">Use another account<\/a>/.exec(choose.page.text)![1].replaceAll('&amp;', '&');
    const form = await browser.get(other);
    assert.equal(heading(form.text), 'Sign in');
    assert.match(form.text, new RegExp(`id="identifier"[^>]*value="${ALICE.replace('.', '\\.')}"[^>]* readonly`));
  });

  it('refuses prompt=none from a public client at PAR, and an unknown prompt value', async () => {
    const client = new ManualClient(issuer(), await DpopKey.generate(), 'atproto');
    const none = await client.post('/oauth/par', client.parParams({ prompt: 'none' }).params);
    assert.equal(none.status, 400);
    assert.equal(none.body.error, 'consent_required');
    const odd = await client.post('/oauth/par', client.parParams({ prompt: 'always' }).params);
    assert.equal(odd.status, 400);
    assert.match(String(odd.body.error_description), /prompt "always" is not supported/);
  });
});

describe('sign-in rate limits shared with createSession', () => {
  const wrong = (n: number) => `wrong-password-${n}`;

  it('a sign-in page refuses an identifier that createSession attempts used up', async () => {
    const agent = new AtpAgent({ service: server.url });
    for (let i = 0; i < 30; i++) await agent.login({ identifier: 'prompt-bob.test', password: wrong(i) }).catch(() => undefined);
    const browser = new PageSession(issuer());
    const { requestUri, client, page } = await open(browser);
    const answer = await signIn(browser, requestUri, client.clientId, page.text, 'prompt-bob.test');
    assert.equal(answer.status, 429, answer.text.slice(0, 300));
    assert.match(answer.text, /Too many sign-in attempts/);
  });

  it('createSession refuses an identifier that sign-in page attempts used up', async () => {
    const browser = new PageSession(issuer());
    const { requestUri, client, page } = await open(browser);
    for (let i = 0; i < 30; i++) {
      const answer = await signIn(browser, requestUri, client.clientId, page.text, 'prompt-carol.test', wrong(i));
      assert.equal(answer.status, 401, answer.text.slice(0, 300));
    }
    const res = await fetch(`${server.url}/xrpc/com.atproto.server.createSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'prompt-carol.test', password: PASSWORD }),
    });
    assert.equal(res.status, 429);
    assert.equal(((await res.json()) as { error: string }).error, 'RateLimitExceeded');
  });
});
