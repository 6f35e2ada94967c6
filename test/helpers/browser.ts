// A real browser for the OAuth pages: Debian's `chromium` driven by playwright-core (which never
// downloads a browser of its own). CI installs the package (.ci/run); where no browser exists and
// none can be installed, the browser tests are skipped with a message saying so.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

const CANDIDATES = [process.env.SQUALL_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);

export function chromiumPath(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

/** Why browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  return chromiumPath() === undefined
    ? `no Chromium at ${CANDIDATES.join(' or ')}: install Debian's chromium package (apt-get install chromium) to run the OAuth browser tests`
    : undefined;
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (cookies, storage) per call. */
  newContext(opts?: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined) throw new Error(browserUnavailable());
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    // Playwright gives every launch a fresh, temporary --user-data-dir of its own.
  });
  return {
    browser,
    newContext: (opts = {}) => browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, colorScheme: opts.colorScheme ?? 'light' }),
    async close() {
      await browser.close();
    },
  };
}
