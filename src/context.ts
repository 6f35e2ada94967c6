import { hkdfSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccountStore } from './accounts/account-store.ts';
import { AppPasswords } from './accounts/app-passwords.ts';
import { Invites } from './accounts/invites.ts';
import { PlcDidCreator } from './accounts/plc-did-creator.ts';
import type { DidCreator } from './accounts/create-account.ts';
import { importKeypair, secp256k1Backend, type Keypair } from './crypto/index.ts';
import { PlcClient } from './identity/plc-client.ts';
import { LocalPlcDirectory } from './identity/local-plc/plc-directory.ts';
import { createInProcessPlcFetch } from './identity/local-plc/plc-in-process.ts';
import { SqlitePlcOperationStore } from './identity/local-plc/plc-store.ts';
import { createAppIdentity, type AppIdentity } from './identity/services.ts';
import { createGuardedFetch, type GuardedFetch } from './net/guarded-fetch.ts';
import { createTrustedFetch, type TrustedFetch } from './net/trusted-fetch.ts';
import { operatorUrls } from './config.ts';
import type { HostResolver } from './net/safe-fetch.ts';
import { OAuthProvider } from './oauth/provider.ts';
import { PermissionSets } from './oauth/scope/permission-sets.ts';
import { LexiconResolver } from './lexicon/resolver.ts';
import { systemTxtResolver, type TxtResolver } from './identity/handle-resolver.ts';
import { MemoryRateLimiter, type RateLimiter } from './xrpc/index.ts';
import { BlobService, DiskBlobStore } from './blobs/index.ts';
import { createMailer, type Mailer } from './email/mailer.ts';
import { Sessions } from './accounts/sessions.ts';
import { SessionTokens } from './auth/session-jwt.ts';
import type { Config } from './config.ts';
import { createPrivateFile, makeStoragePrivate, PRIVATE_DIR_MODE, PrivateModeError } from './data-directory.ts';
import { Database, migrate, migrations } from './db/index.ts';
import type { ServerLock } from './db/server-lock.ts';
import { LexiconSet } from './lexicon/index.ts';
import { Metrics } from './metrics/metrics.ts';
import { startBackupSchedule, type BackupSchedule } from './backup/scheduler.ts';
import type { Logger } from './logger.ts';
import type { Secrets } from './secrets.ts';
import { GroupCommitter } from './repo/group-commit.ts';
import { RecordIndex } from './repo/record-index.ts';
import { RepoLocks } from './repo/repo-lock.ts';
import { removeStaleStagingFiles } from './repo/import/staging.ts';
import { RepoService } from './repo/repo-service.ts';
import { SigningKeys } from './repo/signing-keys.ts';
import { Crawlers } from './sync/crawlers.ts';
import { Firehose } from './sync/firehose.ts';
import { SequencerLog } from './sync/sequencer-log.ts';

/** The Lexicon documents the server knows, vendored in the repo. */
export const LEXICON_DIR = fileURLToPath(new URL('../lexicons', import.meta.url));

/** Record types nearly every account writes (see LexiconSet.prepareRecords). */
const COMMON_RECORD_TYPES = ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.feed.repost', 'app.bsky.graph.follow', 'app.bsky.actor.profile'];

/** What handlers get. Domain modules get only their own dependencies, never the whole context. */
export interface AppContext {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly db: Database;
  readonly lexicons: LexiconSet;
  readonly accounts: AccountStore;
  readonly appPasswords: AppPasswords;
  readonly sessions: Sessions;
  readonly invites: Invites;
  readonly mailer: Mailer;
  /** Outbound HTTP to URLs users or DID documents control: public addresses only (src/net). */
  readonly guardedFetch: GuardedFetch;
  /** Outbound HTTP to the URLs the operator configured (PLC, crawlers, services): only those origins. */
  readonly trustedFetch: TrustedFetch;
  readonly plc: PlcClient;
  /** The built-in PLC directory of a local playground (config.identity.localPlc), served by server.ts. */
  readonly localPlc?: LocalPlcDirectory;
  /** DID and handle resolution (cached), for identity methods and service auth. */
  readonly identity: AppIdentity;
  readonly rotationKey: Keypair;
  readonly didCreator: DidCreator;
  readonly signingKeys: SigningKeys;
  readonly committer: GroupCommitter;
  readonly sequencer: SequencerLog;
  readonly firehose: Firehose;
  /** The relays of PDS_CRAWLERS, asked to crawl after writes and when an account goes live. */
  readonly crawlers: Crawlers;
  readonly repo: RepoService;
  readonly blobs: BlobService;
  /** Prometheus metrics of this server (undefined when PDS_METRICS_ENABLED=false). */
  readonly metrics: Metrics | undefined;
  /** Scheduled backups (PDS_BACKUP_DIRECTORY), when configured. */
  readonly backups: BackupSchedule | undefined;
  /** The OAuth authorization server and resource-server checks. */
  readonly oauth: OAuthProvider;
  /** One limiter for every rate limit (XRPC methods and the OAuth sign-in page share buckets); none when disabled. */
  readonly rateLimiter: RateLimiter | undefined;
  readonly startedAt: Date;
  close(): Promise<void>;
}

export class BootError extends Error {}

/**
 * The network the server runs in, for tests that stand in for the Internet on loopback: name
 * resolution of outbound requests. What those requests may reach (no private addresses unless
 * PDS_ALLOW_PRIVATE_NETWORK) stays the config's decision.
 */
export interface NetworkEnvironment {
  resolveHost?: HostResolver;
  /** DNS TXT lookups of Lexicon authorities (`_lexicon.<domain>`). */
  resolveTxt?: TxtResolver;
}

/**
 * `lock` is the database's (db/server-lock.ts), taken by the caller before anything touched the
 * data; the context's close releases it. A boot that fails part way closes what it had opened
 * (the database, timers, the mailer) before it throws; the caller releases the lock.
 */
export async function createContext(config: Config, secrets: Secrets, log: Logger, network: NetworkEnvironment, lock: ServerLock): Promise<AppContext> {
  const opened: Closer[] = [];
  try {
    return await assembleContext(config, secrets, log, network, lock, opened);
  } catch (err) {
    await closeAll(opened, log);
    throw err;
  }
}

type Closer = () => unknown;

/** Closes in the reverse order of opening; a closer that fails is logged and the rest still run. */
async function closeAll(opened: Closer[], log: Logger): Promise<void> {
  while (opened.length > 0) {
    try {
      await opened.pop()!();
    } catch (err) {
      log.error({ err }, 'error while closing');
    }
  }
}

/** The server's database; a file that is no SQLite database (or a damaged one) stops the boot, naming it. */
function openDatabase(file: string): Database {
  try {
    return new Database(file, { backgroundCheckpoints: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new BootError(`${file} is not a usable SQLite database (${(err as Error).message}): restore the newest backup (squall admin restore) into a new data directory`);
    }
    throw err;
  }
}

/** Builds the context; everything it starts that must be stopped goes onto `opened` as it starts. */
async function assembleContext(config: Config, secrets: Secrets, log: Logger, network: NetworkEnvironment, lock: ServerLock, opened: Closer[]): Promise<AppContext> {
  const { storage } = config;
  for (const dir of [storage.dataDir, storage.blobDir, storage.blobTmpDir, dirname(storage.dbFile)]) {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  }
  let fixed;
  try {
    fixed = makeStoragePrivate(storage);
  } catch (err) {
    if (err instanceof PrivateModeError) throw new BootError(err.message);
    throw err;
  }
  if (fixed.length > 0) {
    log.warn({ fixed: fixed.length, examples: fixed.slice(0, 10) }, 'made stored files private: other users could read them (now 0600 files, 0700 directories)');
  }
  // SQLite creates its -wal and -shm files with the database file's mode.
  createPrivateFile(storage.dbFile);
  const db = openDatabase(storage.dbFile);
  opened.push(() => db.close());
  db.onCheckpointerFailure = (err) => log.error({ err }, 'the WAL checkpoint worker failed: checkpoints run in the COMMIT again');
  const result = migrate(db, migrations, (m, { fresh }) => {
    if (!fresh) log.info({ migration: `${m.id}-${m.name}` }, 'database migration running (some rewrite a table: seconds to minutes on a large database)');
  });
  if (result.error) {
    throw new BootError(`database migration ${result.error.id} (${result.error.name}) failed: ${result.error.message}`);
  }
  if (result.applied.length > 0) log.info({ applied: result.applied.map((m) => `${m.id}-${m.name}`) }, 'database migrated');
  const k256 = secp256k1Backend();
  if (k256.kind === 'libsecp256k1') log.info({ secp256k1: k256.kind }, 'ES256K signatures: libsecp256k1 (native)');
  else log.warn({ secp256k1: k256.kind, reason: k256.reason }, 'ES256K signatures: node:crypto (OpenSSL), about 10x the CPU per signature of libsecp256k1');
  // Documents are read on first use; the record types most writes are of are made ready now, so
  // the first post after a restart does not pay for reading and compiling ~20 documents.
  const lexicons = LexiconSet.fromDirectory(LEXICON_DIR).prepareRecords(COMMON_RECORD_TYPES);
  const accounts = new AccountStore(db);
  // The app-password lookup key is derived from the JWT secret (no new secret to configure). A new
  // JWT secret makes every stored digest stale: those app passwords take the slow path once each.
  const appPasswords = new AppPasswords(db, Buffer.from(hkdfSync('sha256', secrets.jwtSecret, '', 'squall app-password lookup', 32)));
  const sessions = new Sessions(db, accounts, appPasswords, new SessionTokens(secrets.jwtSecret, config.service.did));
  const invites = new Invites(db, config.service.hostname);
  const guardedFetch = createGuardedFetch({ disableSsrfProtection: config.net.disableSsrfProtection, resolveHost: network.resolveHost });
  if (config.net.disableSsrfProtection) log.warn('PDS_DISABLE_SSRF_PROTECTION is on: handles, did:web and DID-document endpoints may reach private addresses (development only)');
  if (config.net.retiredAllowPrivateNetwork) {
    log.warn('PDS_ALLOW_PRIVATE_NETWORK is retired and opens nothing: configured URLs (PLC, crawlers, services) reach private addresses without it; PDS_DISABLE_SSRF_PROTECTION=true does the rest, for development only');
  }
  const trustedFetch = createTrustedFetch(operatorUrls(config));
  // A local playground's directory is asked in process, through the same HTTP answers it serves.
  const localPlc = config.identity.localPlc ? new LocalPlcDirectory(new SqlitePlcOperationStore(db)) : undefined;
  const plc = new PlcClient({ url: config.identity.plcUrl, fetch: localPlc ? createInProcessPlcFetch(localPlc) : trustedFetch });
  const identity = createAppIdentity({ config, fetch: guardedFetch, plc });
  const rotationKey = await importKeypair('ES256K', secrets.plcRotationKeyHex);
  const mail = createMailer(
    { smtpUrl: config.email.smtpUrl, fromAddress: config.email.fromAddress, outboxDir: join(config.storage.dataDir, 'outbox') },
    log,
  );
  opened.push(() => mail.mailer.close());
  log.info({ email: mail.kind }, mail.description);
  const signingKeys = new SigningKeys((did) => accounts.byDid(did)?.signingKey);
  const sequencer = new SequencerLog(db);
  const committer = new GroupCommitter(db, 256, 2, () => sequencer.latestSeq());
  const firehose = new Firehose(sequencer);
  opened.push(() => firehose.close());
  // The firehose serves an event only once the commit group that wrote it is on stable storage.
  committer.onDurable((seq) => firehose.advance(seq));
  const metrics = config.metrics.enabled ? new Metrics({ db, firehose }) : undefined;
  if (metrics) committer.observe(metrics.commits);
  const blobs = new BlobService({
    db,
    store: new DiskBlobStore(config.storage.blobDir),
    tmpDir: config.storage.blobTmpDir,
    uploadLimit: config.service.blobUploadLimit,
    log,
  });
  opened.push(blobs.startCollector());
  // A repo import stages its CAR in the temporary directory; one cut off by a crash left its file.
  const staleImports = removeStaleStagingFiles(config.storage.blobTmpDir);
  if (staleImports > 0) log.info({ removed: staleImports }, 'removed staging files of interrupted repo imports');
  const crawlers = new Crawlers(config.crawlers, config.service.hostname, trustedFetch, log);
  const repo = new RepoService({
    db,
    records: new RecordIndex(db),
    sequencer,
    committer,
    locks: new RepoLocks(),
    keys: signingKeys,
    firehose,
    blobs,
    afterCommit: config.crawlers.length > 0 ? () => crawlers.notify() : undefined,
  });
  metrics?.watchRepoWrites(() => {
    const { commits, calls } = repo.merges;
    return { restarts: repo.restarts, mergedCommits: commits, mergedCalls: calls };
  });
  // Events older than the retention are dropped hourly; subscribers asking for them get OutdatedCursor.
  const pruneEvents = () => {
    const removed = sequencer.prune(new Date(Date.now() - config.sequencerRetentionHours * 3600_000));
    if (removed > 0) log.info({ removed }, 'pruned old firehose events');
  };
  pruneEvents();
  const pruneTimer = setInterval(pruneEvents, 3600_000);
  pruneTimer.unref();
  opened.push(() => clearInterval(pruneTimer));
  const backups = config.backup ? startBackupSchedule({ config: { ...config, backup: config.backup }, log, metrics }) : undefined;
  if (backups) opened.push(() => backups.stop());
  // `include:` scopes name permission sets published as Lexicons: resolved over DNS and the network, verified, cached.
  const permissionSets = new PermissionSets(new LexiconResolver({ resolveTxt: network.resolveTxt ?? systemTxtResolver(3_000), dids: identity.dids, fetch: guardedFetch }), {
    onBackgroundError: (nsid, err) => log.warn({ nsid, err: (err as Error).message }, 'could not refresh a permission set'),
  });
  const oauth = new OAuthProvider({
    issuer: new URL(config.service.publicUrl).origin,
    serviceDid: config.service.did,
    secret: secrets.jwtSecret,
    db,
    fetch: guardedFetch,
    devMode: config.service.devMode,
    trustedClients: config.oauth.trustedClients,
    // Taken-down accounts get no new tokens; deactivated ones keep their sessions (unusable until reactivated).
    canIssueFor: (did) => {
      const state = accounts.stateByDid(did);
      return state !== undefined && state !== 'takendown';
    },
    expandPermissions: (scope) => permissionSets.expand(scope),
    checkPermissionSets: (scope) => permissionSets.check(scope),
    permissionSetTitles: (nsid) => permissionSets.titles(nsid),
    replayShares: config.rateLimits.enabled,
  });

  let closed = false;
  return {
    config,
    secrets,
    log,
    db,
    lexicons,
    accounts,
    appPasswords,
    sessions,
    invites,
    mailer: mail.mailer,
    guardedFetch,
    trustedFetch,
    plc,
    localPlc,
    identity,
    rotationKey,
    didCreator: new PlcDidCreator(plc, rotationKey),
    signingKeys,
    committer,
    sequencer,
    firehose,
    crawlers,
    repo,
    blobs,
    metrics,
    backups,
    oauth,
    rateLimiter: config.rateLimits.enabled ? new MemoryRateLimiter() : undefined,
    startedAt: new Date(),
    async close() {
      if (closed) return;
      closed = true;
      await closeAll(opened, log);
      lock.release();
    },
  };
}
