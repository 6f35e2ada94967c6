// The official OAuth client (`@atproto/oauth-client-node`) pointed at a test PDS, and the browser
// steps a person takes on Squall's pages, for the end-to-end OAuth tests.
import { NodeOAuthClient, requestLocalLock, type NodeOAuthClientOptions, type NodeSavedSession, type NodeSavedState } from '@atproto/oauth-client-node';
import type { BrowserContext, Page } from 'playwright-core';

class MemoryStore<V> {
  readonly #map = new Map<string, V>();
  async get(key: string) {
    return this.#map.get(key);
  }
  async set(key: string, value: V) {
    this.#map.set(key, value);
  }
  async del(key: string) {
    this.#map.delete(key);
  }
}

export function oauthClient(opts: { plcUrl: string; pdsUrl: string } & Pick<NodeOAuthClientOptions, 'clientMetadata'> & Partial<NodeOAuthClientOptions>): NodeOAuthClient {
  const { plcUrl, pdsUrl, ...rest } = opts;
  return new NodeOAuthClient({
    stateStore: new MemoryStore<NodeSavedState>(),
    sessionStore: new MemoryStore<NodeSavedSession>(),
    allowHttp: true,
    plcDirectoryUrl: plcUrl,
    // Handles resolve through the PDS's own resolveHandle (test handles have no DNS).
    handleResolver: pdsUrl,
    requestLock: requestLocalLock,
    ...rest,
  });
}

/**
 * Opens the authorization URL and answers the pages as a person would, through their accessible
 * names. Returns the URL the browser was finally sent to (the client's redirect URI), which is
 * caught and never loaded.
 */
export async function authorizeInBrowser(
  context: BrowserContext,
  url: string,
  redirectPrefix: string,
  steps: (page: Page) => Promise<void>,
): Promise<URL> {
  const page = await context.newPage();
  let landed: URL | undefined;
  await page.route(`${redirectPrefix}**`, async (route) => {
    landed = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/plain', body: 'back in the app' });
  });
  await page.goto(url);
  await steps(page);
  await page.waitForURL(`${redirectPrefix}**`);
  await page.close();
  if (landed === undefined) throw new Error('the browser never reached the redirect URI');
  return landed;
}

export async function signIn(page: Page, password: string, identifier?: string): Promise<void> {
  if (identifier !== undefined) await page.getByLabel('Handle or email').fill(identifier);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
