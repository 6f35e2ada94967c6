// The authorization pages in a real browser, at a desktop and a phone size, light and dark: each
// page passes axe-core's WCAG 2.1 AA checks (roles, names, labels, colour contrast computed from
// the rendered styles) and offers its controls under the names the issue asks for. With
// SQUALL_SCREENSHOTS=<dir>, the run also saves a screenshot of each page (light; docs/screenshots/oauth
// holds the last set, made with SQUALL_SCREENSHOTS=$PWD/docs/screenshots/oauth).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { AtpAgent } from '@atproto/api';
import type { BrowserContext, Page } from 'playwright-core';
import { browserUnavailable, launchBrowser, type TestBrowser } from './helpers/browser.ts';
import { resolveTestHosts, startClientHost, type ClientHost } from './helpers/client-host.ts';
import { ClientSigner, DpopKey, ManualClient } from './helpers/oauth-manual.ts';
import { startTestPlc, type TestPlc } from './helpers/plc.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const skip = browserUnavailable();
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = process.env.SQUALL_SCREENSHOTS;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const PASSWORD = 'alice-password-1';
/** A solid-colour PNG (the verified client's logo). */
function solidPng(size: number, [r, g, b]: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}
const LOGO = solidPng(48, [0x0f, 0x76, 0x6e]);

let plc: TestPlc;
let host: ClientHost;
let server: TestServer;
let browser: TestBrowser;
let verifiedClientId: string;

before(async () => {
  if (skip) return;
  plc = await startTestPlc();
  host = await startClientHost();
  verifiedClientId = `${host.origin}/verified/client-metadata.json`;
  server = await startTestServer(
    { PDS_DID_PLC_URL: plc.url, PDS_DEV_MODE: 'true', PDS_HOSTNAME: 'localhost', PDS_OAUTH_TRUSTED_CLIENTS: verifiedClientId, PDS_DISABLE_SSRF_PROTECTION: 'true' },
    { network: { resolveHost: resolveTestHosts } },
  );
  for (const name of ['alice', 'bob', 'carol']) {
    await new AtpAgent({ service: server.url }).createAccount({ handle: `pages-${name}.test`, email: `${name}@example.com`, password: PASSWORD });
  }
  // Carol signs in with a code mailed to her too (turned on through the account store: the mail goes to the outbox here).
  const carol = server.server.ctx.accounts.byIdentifier('pages-carol.test')!;
  server.server.ctx.accounts.confirmEmail(carol.did, new Date().toISOString());
  server.server.ctx.accounts.setEmailAuthFactor(carol.did, true);
  browser = await launchBrowser();
});
after(async () => {
  if (skip) return;
  await browser.close();
  await server.close();
  await host.close();
  await plc.close();
});

const issuer = () => server.server.ctx.oauth.issuer;

/** A pushed request from a development client; returns the URL the app would open. */
async function devRequest(scope = 'atproto transition:generic', par: Record<string, string> = {}): Promise<string> {
  const client = new ManualClient(issuer(), await DpopKey.generate(), scope);
  const { requestUri } = await client.par(par);
  return `${issuer()}/oauth/authorize?request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(client.clientId)}`;
}

/** A pushed request from a confidential web client whose metadata the test host serves. */
const signers = new Map<string, ClientSigner>();
async function webRequest(path: string, scope: string, extra: Record<string, unknown>): Promise<string> {
  // One key per client: Squall caches a client's metadata (and so its keys) for minutes.
  let signer = signers.get(path);
  if (!signer) signers.set(path, (signer = await ClientSigner.generate('k1')));
  const clientId = `${host.origin}${path}`;
  const redirectUri = `${host.origin}/callback`;
  host.serve(path, {
    client_id: clientId,
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope,
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [signer.jwk] },
    dpop_bound_access_tokens: true,
    ...extra,
  });
  const client = new ManualClient(issuer(), await DpopKey.generate(), scope, { clientId, redirectUri, signer });
  const { requestUri } = await client.par({ login_hint: 'pages-alice.test' });
  return `${issuer()}/oauth/authorize?request_uri=${encodeURIComponent(requestUri)}&client_id=${encodeURIComponent(clientId)}`;
}

async function newContext(viewport: keyof typeof VIEWPORTS, colorScheme: 'light' | 'dark' = 'light'): Promise<BrowserContext> {
  const context = await browser.browser.newContext({ viewport: VIEWPORTS[viewport], colorScheme, ignoreHTTPSErrors: true });
  // Client logos live on the test host; the browser finds it where Squall does.
  await context.route('https://client.squall.test:*/**', async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/logo.png') return route.fulfill({ status: 200, contentType: 'image/png', body: LOGO });
    return route.fulfill({ status: 200, contentType: 'text/plain', body: 'back in the app' });
  });
  // The development client's redirect (http://127.0.0.1/callback): nothing listens there.
  await context.route('http://127.0.0.1/**', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'back in the app' }));
  return context;
}

async function signInOnPage(page: Page, identifier?: string): Promise<void> {
  if (identifier) await page.getByLabel('Handle or email').fill(identifier);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
}

/** Signs Alice and Bob in on this browser (remembered), denying the apps each time. */
async function rememberAliceAndBob(page: Page): Promise<void> {
  for (const handle of ['pages-alice.test', 'pages-bob.test']) {
    await page.goto(await devRequest());
    if (await page.getByRole('heading', { name: 'Choose an account' }).isVisible()) await page.getByRole('link', { name: 'Use another account' }).click();
    await signInOnPage(page, handle);
    await page.getByRole('button', { name: 'Deny access' }).click();
    await page.waitForURL((url) => url.searchParams.get('error') === 'access_denied');
  }
}

/** axe-core's WCAG 2.1 A/AA rules on the page as rendered; returns the violations, readable. */
async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the pages' CSP (no scripts at all) does not cover.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; nodes: Array<{ target: unknown; failureSummary?: string }> }> }> } }).axe;
    return axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
  });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('; ')}`);
}

interface PageCase {
  name: string;
  /** Brings a fresh page to the state to check; returns the controls it must offer by name. */
  open(page: Page): Promise<void>;
  expect: Array<Control>;
  /** Controls it must not offer. */
  absent?: Array<Control>;
}

type Control = { role: 'button' | 'textbox' | 'link' | 'heading' | 'checkbox'; name: string | RegExp } | { label: string };

const CASES: PageCase[] = [
  {
    name: 'sign-in',
    open: async (page) => void (await page.goto(await devRequest())),
    expect: [{ label: 'Handle or email' }, { label: 'Password' }, { role: 'button', name: 'Sign in' }, { role: 'button', name: 'Cancel' }, { role: 'heading', name: 'Sign in' }],
  },
  {
    name: 'sign-in-error',
    open: async (page) => {
      await page.goto(await devRequest());
      await page.getByLabel('Handle or email').fill('pages-alice.test');
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
    },
    expect: [{ label: 'Password' }, { role: 'button', name: 'Sign in' }],
  },
  {
    name: 'sign-in-code',
    open: async (page) => {
      await page.goto(await devRequest());
      await signInOnPage(page, 'pages-carol.test');
      await page.getByRole('status').waitFor();
    },
    // The password checked out: the code alone is asked for.
    expect: [{ label: 'Code from your email' }, { role: 'button', name: 'Sign in' }, { role: 'button', name: 'Cancel' }, { role: 'heading', name: 'Enter the code from your email' }],
    absent: [{ label: 'Password' }, { label: 'Handle or email' }],
  },
  {
    name: 'consent-development-app',
    open: async (page) => {
      await page.goto(await devRequest());
      await signInOnPage(page, 'pages-alice.test');
    },
    expect: [{ role: 'button', name: 'Authorize' }, { role: 'button', name: 'Deny access' }, { role: 'heading', name: /Authorize Development client/ }],
  },
  {
    name: 'consent-unverified-app',
    open: async (page) => {
      const url = await webRequest('/unverified/client-metadata.json', 'atproto repo:app.bsky.feed.post?action=create repo:app.bsky.feed.like blob:image/* rpc:app.bsky.feed.getTimeline?aud=did:web:api.bsky.app%23bsky_appview account:email', {
        client_name: 'Photo Poster',
        client_uri: host.origin,
        logo_uri: `${host.origin}/logo.png`,
      });
      await page.goto(url);
      await signInOnPage(page);
    },
    expect: [{ role: 'button', name: 'Authorize' }, { role: 'button', name: 'Deny access' }, { role: 'heading', name: 'This app will be able to:' }],
  },
  {
    name: 'consent-verified-app',
    open: async (page) => {
      const url = await webRequest('/verified/client-metadata.json', 'atproto transition:generic transition:email', {
        client_name: 'Trusted Reader',
        client_uri: host.origin,
        logo_uri: `${host.origin}/logo.png`,
      });
      await page.goto(url);
      await signInOnPage(page);
    },
    expect: [{ role: 'button', name: 'Authorize' }, { role: 'button', name: 'Deny access' }],
  },
  {
    name: 'account-chooser',
    open: async (page) => {
      await rememberAliceAndBob(page);
      await page.goto(await devRequest());
    },
    expect: [{ role: 'heading', name: 'Choose an account' }, { role: 'button', name: /@pages-alice\.test/ }, { role: 'button', name: /@pages-bob\.test/ }, { role: 'link', name: 'Use another account' }, { role: 'button', name: 'Cancel' }],
  },
  {
    name: 'account-chooser-hinted',
    open: async (page) => {
      await rememberAliceAndBob(page);
      await page.goto(await devRequest(undefined, { login_hint: 'pages-bob.test', prompt: 'select_account' }));
    },
    expect: [{ role: 'heading', name: 'Choose an account' }, { role: 'button', name: /@pages-alice\.test/ }, { role: 'button', name: /@pages-bob\.test.*Requested by the app/ }],
  },
  {
    name: 'error',
    open: async (page) => void (await page.goto(`${issuer()}/oauth/authorize?client_id=http%3A%2F%2Flocalhost`)),
    expect: [{ role: 'heading', name: 'This sign-in cannot continue' }],
  },
  {
    name: 'authorized-apps-sign-in',
    open: async (page) => void (await page.goto(`${issuer()}/oauth/account`)),
    expect: [{ label: 'Handle or email' }, { label: 'Password' }, { role: 'button', name: 'Sign in' }],
  },
  {
    name: 'authorized-apps',
    open: async (page) => {
      const client = new ManualClient(issuer(), await DpopKey.generate(), 'atproto transition:generic');
      await client.signIn('pages-alice.test', PASSWORD);
      await page.goto(`${issuer()}/oauth/account`);
      await signInOnPage(page, 'pages-alice.test');
    },
    expect: [{ role: 'heading', name: 'Your authorized apps' }, { role: 'button', name: 'Revoke access for Development client' }, { role: 'button', name: /Sign @pages-alice\.test out/ }],
  },
];

describe('the authorization pages in a browser', { skip }, () => {
  for (const pageCase of CASES) {
    for (const viewport of ['desktop', 'phone'] as const) {
      it(`${pageCase.name} (${viewport}) passes the WCAG 2.1 AA checks in light and dark, and names its controls`, async () => {
        for (const colorScheme of ['light', 'dark'] as const) {
          const context = await newContext(viewport, colorScheme);
          const page = await context.newPage();
          await pageCase.open(page);
          const locate = (want: Control) => ('label' in want ? page.getByLabel(want.label, { exact: true }) : page.getByRole(want.role, { name: want.name, exact: typeof want.name === 'string' }));
          for (const want of pageCase.expect) assert.equal(await locate(want).count(), 1, `${pageCase.name}: ${JSON.stringify(want)}`);
          for (const unwanted of pageCase.absent ?? []) assert.equal(await locate(unwanted).count(), 0, `${pageCase.name} does not offer ${JSON.stringify(unwanted)}`);
          assert.deepEqual(await axeViolations(page), [], `${pageCase.name} ${viewport} ${colorScheme}`);
          const overflow = await page.evaluate(() => {
            const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
            return root.scrollWidth - root.clientWidth;
          });
          assert.ok(overflow <= 0, `${pageCase.name} ${viewport}: no sideways scrolling (${overflow}px too wide)`);
          if (SHOTS && colorScheme === 'light') {
            mkdirSync(SHOTS, { recursive: true });
            await page.screenshot({ path: join(SHOTS, `${pageCase.name}-${viewport}.png`), fullPage: true });
          }
          await context.close();
        }
      });
    }
  }
});

/** The mail files in the outbox folder (the test server has no SMTP), by name. */
function outboxMails(): Map<string, string> {
  const outbox = join(server.server.ctx.config.storage.dataDir, 'outbox');
  if (!existsSync(outbox)) return new Map();
  return new Map(readdirSync(outbox).filter((name) => name.endsWith('.eml')).map((name) => [name, readFileSync(join(outbox, name), 'utf8')]));
}

/** The sign-in code in a mail to `address` that was not in the outbox in `before`. */
async function newCodeMailedTo(address: string, before: ReadonlySet<string>): Promise<string | undefined> {
  for (let i = 0; i < 50; i++) {
    for (const [name, text] of outboxMails()) {
      if (!before.has(name) && text.includes(address)) return /[A-Z2-7]{5}-[A-Z2-7]{5}/.exec(text)?.[0];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

describe('the sign-in steps in a browser', { skip }, () => {
  it('prompt=select_account with a login_hint brings up the chooser with the hinted account first and focused, and Enter picks it', async () => {
    const context = await newContext('desktop');
    const page = await context.newPage();
    await rememberAliceAndBob(page);
    await page.goto(await devRequest(undefined, { login_hint: 'pages-bob.test', prompt: 'select_account' }));
    assert.equal(await page.getByRole('heading', { name: 'Choose an account' }).count(), 1);
    const accounts = page.locator('.accounts button');
    assert.equal(await accounts.count(), 2);
    assert.match(await accounts.first().innerText(), /@pages-bob\.test/);
    assert.equal(await accounts.first().evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement), true, 'the hinted account has the focus');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    assert.equal(await page.getByText('Signed in as @pages-bob.test.').count(), 1);
    await context.close();
  });

  it('asks an account with email as a second factor for the mailed code alone once its password checked out', async () => {
    const context = await newContext('desktop');
    const page = await context.newPage();
    await page.goto(await devRequest());
    const before = new Set(outboxMails().keys());
    await signInOnPage(page, 'pages-carol.test');
    await page.getByRole('status').waitFor();
    assert.equal(await page.getByLabel('Password').count(), 0, 'the password is not asked again');
    const code = await newCodeMailedTo('carol@example.com', before);
    assert.ok(code, 'a code was mailed');
    await page.getByLabel('Code from your email').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Authorize' }).waitFor();
    assert.equal(await page.getByText('Signed in as @pages-carol.test.').count(), 1);
    await context.close();
  });
});
