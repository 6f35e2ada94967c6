import BetterSqlite3 from 'better-sqlite3';
import type { Config } from '../config.ts';
import { DidResolver } from '../identity/did-resolver.ts';
import { HandleResolver, type TxtResolver } from '../identity/handle-resolver.ts';
import { PlcClient } from '../identity/plc-client.ts';
import { createGuardedFetch } from '../net/guarded-fetch.ts';
import { createTrustedFetch } from '../net/trusted-fetch.ts';
import { ServiceTokens } from '../proxy/service-tokens.ts';
import { SigningKeys } from '../repo/signing-keys.ts';
import { checkAppView, checkDidDocument, checkHandle, checkRelayRepo, type DoctorAccount } from './account-checks.ts';
import { checkRepo } from './repo-check.ts';
import { checkBackups, checkDisk, checkFirehose, checkPlc, checkPublicUrl, checkRelays, checkServiceDid, checkSmtp, requestCrawls, type HttpOptions } from './server-checks.ts';
import type { CheckResult } from './types.ts';

export interface DoctorOptions {
  config: Config;
  /** Only this account (by handle or DID); default: every active account. */
  handle?: string;
  /** Ask the relays to crawl this host now (com.atproto.sync.requestCrawl) before asking what they know. */
  requestCrawl?: boolean;
  /** Where backups are, when not PDS_BACKUP_DIRECTORY. */
  backupDir?: string;
  /** Trust store for the operator's HTTPS URLs (tests pass their own CA). */
  ca?: string[];
  /** DNS TXT lookups for handles (tests pass a stand-in). */
  resolveTxt?: TxtResolver;
  /** Where a handle's HTTPS well-known is (tests point it at a stand-in). */
  wellKnownUrl?: (handle: string) => string;
  timeoutMs?: number;
}

/**
 * "My posts don't show up": checks, for the server and each account, what makes posts
 * invisible, in the order things depend on each other. Operator-configured services (the public
 * URL, PLC, relays, AppView, SMTP) are asked directly; handles and DID documents, which users
 * control, through the guarded fetch.
 */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const { config } = options;
  const http: HttpOptions = { ca: options.ca, timeoutMs: options.timeoutMs ?? 5000 };
  const results: CheckResult[] = [];
  results.push(await checkPublicUrl(config, http));
  results.push(await checkServiceDid(config, http));
  results.push(await checkFirehose(config, http));
  results.push(await checkPlc(config, http));
  if (options.requestCrawl) results.push(...(await requestCrawls(config, http)));
  const { results: relayResults, relays } = await checkRelays(config, http);
  results.push(...relayResults);
  results.push(await checkSmtp(config));
  results.push(await checkDisk(config));
  results.push(await checkBackups(config, options.backupDir));

  // Handles and DID documents are user-controlled (public addresses only unless development says
  // otherwise); the PLC directory is the operator's (trusted).
  const guarded = createGuardedFetch({ disableSsrfProtection: config.net.disableSsrfProtection });
  const devMode = config.service.handleDomains.some((d) => d.endsWith('.test'));
  const handles = new HandleResolver({ resolveTxt: options.resolveTxt, fetch: guarded, wellKnownUrl: options.wellKnownUrl, devMode, cache: { freshMs: 0, maxAgeMs: 0 } });
  const dids = new DidResolver({ plc: new PlcClient({ url: config.identity.plcUrl, fetch: createTrustedFetch([config.identity.plcUrl]) }), fetch: guarded, devMode });
  const db = new BetterSqlite3(config.storage.dbFile, { readonly: true, fileMustExist: true });
  try {
    const { accounts, signingKeys } = readAccounts(db, options.handle);
    const keys = new SigningKeys((did) => signingKeys.get(did));
    const tokens = new ServiceTokens((did) => keys.get(did));
    const tokenFor = (iss: string, aud: string, lxm: string) => tokens.get(iss, aud, lxm, false);
    if (options.handle !== undefined && accounts.length === 0) {
      results.push({ check: `account ${options.handle}`, status: 'fail', message: 'no active account on this server has that handle or DID', fix: 'check the spelling; npm run admin -- account <handle> shows an account of any status' });
    }
    for (const account of accounts) {
      results.push(await checkHandle(account, handles, config));
      results.push(await checkDidDocument(account, dids, config));
      results.push(await checkRepo(account, db));
      for (const relay of relays.filter((r) => r.knowsHost)) results.push(await checkRelayRepo(account, relay, http));
      const appView = await checkAppView(account, config, http, tokenFor);
      if (appView) results.push(appView);
    }
  } finally {
    db.close();
  }
  return results;
}

/** Active accounts with their repo's rev (deactivated and taken-down accounts are meant to be invisible). */
function readAccounts(db: BetterSqlite3.Database, only?: string): { accounts: DoctorAccount[]; signingKeys: Map<string, string> } {
  const rows = db
    .prepare(
      `SELECT a.did, a.handle, a.signing_key_did AS signingKeyDid, a.signing_key AS signingKey, r.rev FROM account a LEFT JOIN repo_root r ON r.did = a.did
       WHERE a.deactivated_at IS NULL AND a.takedown_ref IS NULL ORDER BY a.handle`,
    )
    .all() as Array<Omit<DoctorAccount, 'rev'> & { rev: string | null; signingKey: string }>;
  const wanted = only?.toLowerCase();
  const chosen = rows.filter((r) => wanted === undefined || r.handle === wanted || r.did === only);
  return {
    accounts: chosen.map((r) => ({ did: r.did, handle: r.handle, signingKeyDid: r.signingKeyDid, rev: r.rev ?? undefined })),
    // Kept apart from the accounts, used only to sign the AppView check's service-auth token.
    signingKeys: new Map(chosen.map((r) => [r.did, r.signingKey])),
  };
}
