import type { TrustedFetch } from '../net/trusted-fetch.ts';

/** The official PDS asks relays to crawl again at most every 20 minutes. */
export const CRAWL_NOTIFY_INTERVAL_MS = 20 * 60 * 1000;

export interface CrawlerLog {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/**
 * Tells the configured relays (PDS_CRAWLERS) that this PDS has new data, by calling their
 * `com.atproto.sync.requestCrawl` after writes, at most once per interval per relay.
 */
export class Crawlers {
  readonly #last = new Map<string, number>();
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly crawlers: readonly string[],
    private readonly hostname: string,
    private readonly fetch: TrustedFetch,
    private readonly log: CrawlerLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called after each commit; cheap when nothing is due. */
  notify(): void {
    const now = this.now();
    for (const crawler of this.crawlers) {
      if (this.#inFlight.has(crawler)) continue;
      const last = this.#last.get(crawler);
      if (last !== undefined && now - last < CRAWL_NOTIFY_INTERVAL_MS) continue;
      this.#last.set(crawler, now);
      this.#inFlight.add(crawler);
      void this.#request(crawler).finally(() => this.#inFlight.delete(crawler));
    }
  }

  async #request(crawler: string): Promise<void> {
    const url = `${crawler.replace(/\/+$/, '')}/xrpc/com.atproto.sync.requestCrawl`;
    try {
      const res = await this.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hostname: this.hostname }),
        timeoutMs: 10_000,
        maxBytes: 64 * 1024,
      });
      if (res.status >= 400) this.log.warn({ crawler, status: res.status }, 'crawler refused requestCrawl');
      else this.log.info({ crawler }, 'asked crawler to crawl');
    } catch (err) {
      // Try again at the next commit rather than waiting a whole interval.
      this.#last.delete(crawler);
      this.log.warn({ crawler, err: (err as Error).message }, 'could not reach crawler');
    }
  }
}
