// The migration commands' flow (`migrate-in`, `migrate-out`): moves an account from its old PDS to
// a new one as the official client-side flow does, as a client of both (one of them is this
// Squall). Each step first checks whether it is already done (on either server) and is skipped if
// so, so running the command again after an interruption resumes where it stopped and never does a
// step twice.
import { tmpdir } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { compareRepos, type RepoComparison } from './compare-repos.ts';
import { XrpcCallError, XrpcClient } from './xrpc-client.ts';

export type StepName = 'create' | 'import' | 'blobs' | 'preferences' | 'identity' | 'activate' | 'verify' | 'deactivate-old';
export const STEPS: readonly StepName[] = ['create', 'import', 'blobs', 'preferences', 'identity', 'activate', 'verify', 'deactivate-old'];

export type ProgressEvent =
  | { kind: 'step'; step: StepName; status: 'start' | 'done' | 'skipped'; detail?: string }
  | { kind: 'bytes'; step: 'import'; bytes: number }
  | { kind: 'blob'; done: number; total: number; bytes: number }
  | { kind: 'note'; message: string };

export interface MigrateOptions {
  /** The account: its DID or handle. */
  from: string;
  /** The new PDS's URL. */
  to: string;
  /** The handle on the new PDS (default: the same, or the same name under one of its domains). */
  handle?: string;
  /** The email on the new PDS (default: the old account's). */
  email?: string;
  /** An invite code, for a new PDS that asks for one. */
  inviteCode?: string;
  /** Scratch space for the final comparison (default: the system's temporary directory). */
  scratchDir?: string;
  /** The old PDS's URL (default: what the DID document names, or what an earlier run remembered). */
  fromPds?: string;
}

export interface MigrateIo {
  /** Asks the user; `secret` input is not echoed. Undefined when there is no more input. */
  ask(question: string, opts?: { secret?: boolean }): Promise<string | undefined>;
  report(event: ProgressEvent): void;
  /** The account's DID, its PDS and its handle, from its DID document (and handle). */
  resolveIdentity(id: string): Promise<{ did: string; pds: string; handle?: string; signingKey?: string }>;
  /** What a run must remember for the next (the old PDS: the DID document stops naming it halfway). */
  state: { load(did: string): { oldPds?: string } | undefined; save(did: string, state: { oldPds: string }): void };
}

export interface MigrationSummary {
  did: string;
  handle: string;
  steps: Array<{ step: StepName; outcome: 'done' | 'skipped' }>;
  records: number;
  blobs: { copied: number; bytes: number; expected: number; present: number };
  comparison: RepoComparison;
}

/** The migration cannot go on now; `resumable` when running the command again will continue it. */
export class MigrationStop extends Error {
  constructor(
    message: string,
    readonly resumable: boolean,
  ) {
    super(message);
  }
}

interface AccountStatus {
  activated: boolean;
  validDid: boolean;
  repoCommit: string;
  indexedRecords: number;
  expectedBlobs: number;
  importedBlobs: number;
}

const CREATE_ACCOUNT = 'com.atproto.server.createAccount';
const DECLARED_AGE = 'app.bsky.actor.defs#declaredAgePref';

export async function migrateAccount(opts: MigrateOptions, io: MigrateIo): Promise<MigrationSummary> {
  const identity = await io.resolveIdentity(opts.from);
  const { did } = identity;
  const newPds = new XrpcClient(opts.to);
  const server = await newPds.query<{ did: string; availableUserDomains: string[] }>('com.atproto.server.describeServer');
  const oldPds = await findOldPds(opts, io, identity, server.did);
  io.state.save(did, { oldPds });
  io.report({ kind: 'note', message: `moving ${did} from ${oldPds}` });
  const old = new XrpcClient(oldPds);
  const password = await io.ask(`Password of ${identity.handle ?? did} on ${oldPds}: `, { secret: true });
  if (!password) throw new MigrationStop('no password given', true);
  const oldSession = await old.login(did, password).catch((err: unknown) => {
    throw new MigrationStop(`cannot sign in to ${oldPds}: ${(err as Error).message}`, false);
  });

  const steps: MigrationSummary['steps'] = [];
  const run = async (step: StepName, isDone: () => Promise<string | false>, act: () => Promise<string | void>) => {
    const already = await isDone();
    if (already !== false) {
      steps.push({ step, outcome: 'skipped' });
      io.report({ kind: 'step', step, status: 'skipped', detail: already });
      return;
    }
    io.report({ kind: 'step', step, status: 'start' });
    const detail = await act();
    steps.push({ step, outcome: 'done' });
    io.report({ kind: 'step', step, status: 'done', detail: detail ?? undefined });
  };
  const status = () => newPds.query<AccountStatus>('com.atproto.server.checkAccountStatus');

  const handle = opts.handle ?? (await defaultHandle(old, oldSession.handle, server.availableUserDomains));

  await run(
    'create',
    async () => ((await newPds.login(did, password).then(() => true, () => false)) ? 'the account already exists on the new PDS' : false),
    async () => {
      const email = opts.email ?? oldSession.email ?? (await io.ask('Email address for the account on the new PDS: '));
      if (!email) throw new MigrationStop('no email address given', true);
      const { token } = await old.query<{ token: string }>('com.atproto.server.getServiceAuth', { aud: server.did, lxm: CREATE_ACCOUNT });
      const inviteCode = opts.inviteCode ? { inviteCode: opts.inviteCode } : {};
      await newPds.procedure(CREATE_ACCOUNT, { did, handle, email, password, ...inviteCode }, { authorization: `Bearer ${token}` });
      await newPds.login(did, password);
      return `as ${handle}, with the same password`;
    },
  );

  await run(
    'import',
    async () => {
      const now = await status();
      if (now.activated) return 'the account is already active on the new PDS';
      const latest = await old.query<{ cid: string }>('com.atproto.sync.getLatestCommit', { did });
      return now.repoCommit === latest.cid ? `commit ${latest.cid} is already on the new PDS` : false;
    },
    async () => {
      const repo = await old.stream('com.atproto.sync.getRepo', { did });
      let bytes = 0;
      let reported = 0;
      const counted = repo.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            bytes += chunk.length;
            if (bytes - reported >= 1024 * 1024) {
              reported = bytes;
              io.report({ kind: 'bytes', step: 'import', bytes });
            }
            controller.enqueue(chunk);
          },
        }),
      );
      await newPds.upload('com.atproto.repo.importRepo', counted, 'application/vnd.ipld.car');
      io.report({ kind: 'bytes', step: 'import', bytes });
      const now = await status();
      return `${now.indexedRecords} records, ${formatBytes(bytes)}`;
    },
  );

  const blobs = { copied: 0, bytes: 0 };
  await run(
    'blobs',
    async () => {
      const now = await status();
      return now.importedBlobs >= now.expectedBlobs ? `all ${now.expectedBlobs} blobs are on the new PDS` : false;
    },
    async () => {
      const now = await status();
      const total = now.expectedBlobs - now.importedBlobs;
      let cursor: string | undefined;
      do {
        const page = await newPds.query<{ blobs: Array<{ cid: string }>; cursor?: string }>('com.atproto.repo.listMissingBlobs', { limit: 500, cursor });
        for (const { cid } of page.blobs) {
          const blob = await old.stream('com.atproto.sync.getBlob', { did, cid });
          const uploaded = await newPds.upload<{ blob: { size: number } }>('com.atproto.repo.uploadBlob', blob.body, blob.contentType ?? 'application/octet-stream');
          blobs.copied++;
          blobs.bytes += uploaded.blob.size;
          io.report({ kind: 'blob', done: blobs.copied, total, bytes: blobs.bytes });
        }
        cursor = page.cursor;
      } while (cursor);
      return `${blobs.copied} blobs, ${formatBytes(blobs.bytes)}`;
    },
  );

  const oldPreferences = async () => (await old.query<{ preferences: unknown[] }>('app.bsky.actor.getPreferences')).preferences;
  await run(
    'preferences',
    async () => {
      const [theirs, ours] = await Promise.all([
        preferencesOrNone(old, oldPds),
        preferencesOrNone(newPds, 'the new PDS'),
      ]);
      // An official PDS without an AppView configured keeps no preferences: nothing to copy.
      if (typeof theirs === 'string') return theirs;
      if (typeof ours === 'string') return ours;
      return isDeepStrictEqual(comparable(theirs), comparable(ours)) ? `the ${comparable(theirs).length} preferences are already on the new PDS` : false;
    },
    async () => {
      const preferences = await oldPreferences();
      await newPds.procedure('app.bsky.actor.putPreferences', { preferences });
      return `${preferences.length} preferences`;
    },
  );

  await run(
    'identity',
    async () => ((await status()).validDid ? 'the DID document already names the new PDS' : false),
    async () => {
      const credentials = await newPds.query<Record<string, unknown>>('com.atproto.identity.getRecommendedDidCredentials');
      if (!did.startsWith('did:plc:')) {
        throw new MigrationStop(
          `${did} is not a did:plc: update its DID document yourself so that it names the new PDS and its key:\n${JSON.stringify(credentials, null, 2)}\nthen run this command again`,
          true,
        );
      }
      await old.procedure('com.atproto.identity.requestPlcOperationSignature');
      io.report({ kind: 'note', message: `${oldPds} has mailed a confirmation code to the account's email address` });
      const token = (await io.ask('Code from that email (XXXXX-XXXXX): '))?.trim();
      if (!token) throw new MigrationStop('no confirmation code given: run the command again to get a new one', true);
      const { operation } = await old.procedure<{ operation: unknown }>('com.atproto.identity.signPlcOperation', { token, ...credentials });
      await newPds.procedure('com.atproto.identity.submitPlcOperation', { operation });
      return 'the DID document names the new PDS, its key and the handle';
    },
  );

  await run(
    'activate',
    async () => ((await status()).activated ? 'the account is already active on the new PDS' : false),
    async () => {
      await newPds.procedure('com.atproto.server.activateAccount');
    },
  );

  let comparison: RepoComparison | undefined;
  await run(
    'verify',
    async () => false,
    async () => {
      const resolved = await io.resolveIdentity(did);
      if (!resolved.signingKey) throw new MigrationStop('the DID document names no signing key', false);
      const theirs = await old.stream('com.atproto.sync.getRepo', { did });
      const ours = await newPds.stream('com.atproto.sync.getRepo', { did });
      comparison = await compareRepos(theirs.body, ours.body, { did, key: resolved.signingKey, scratchDir: opts.scratchDir ?? tmpdir() }).catch((err: unknown) => {
        throw new MigrationStop(`verification failed: the new PDS's repository: ${(err as Error).message}`, true);
      });
      const now = await status();
      const problems = [
        ...(comparison.missingCount > 0 ? [`${comparison.missingCount} records missing on the new PDS (${comparison.missing.join(', ')})`] : []),
        ...(comparison.differentCount > 0 ? [`${comparison.differentCount} records differ (${comparison.different.join(', ')})`] : []),
        ...(now.importedBlobs < now.expectedBlobs ? [`${now.expectedBlobs - now.importedBlobs} blobs missing`] : []),
        ...(!now.validDid ? ['the DID document does not name the new PDS'] : []),
      ];
      if (problems.length > 0) throw new MigrationStop(`verification failed: ${problems.join('; ')}`, true);
      return `${comparison.same} records with the same CIDs, ${now.importedBlobs} blobs, the DID document names the new PDS`;
    },
  );

  await run(
    'deactivate-old',
    async () => ((await old.query<{ active?: boolean }>('com.atproto.server.getSession')).active === false ? 'already deactivated there' : false),
    async () => {
      await old.procedure('com.atproto.server.deactivateAccount', {});
      return `${oldPds} no longer serves the account`;
    },
  );

  const final = await status();
  return {
    did,
    handle,
    steps,
    records: final.indexedRecords,
    blobs: { ...blobs, expected: final.expectedBlobs, present: final.importedBlobs },
    comparison: comparison!,
  };
}

/**
 * Where the account comes from: `--from-pds`, else what an earlier run remembered, else the PDS
 * its DID document names, unless that is the new PDS (the identity step of an earlier run moved
 * it: the old PDS is then only known from that run's state).
 */
async function findOldPds(opts: MigrateOptions, io: MigrateIo, identity: { did: string; pds: string }, hereDid: string): Promise<string> {
  const known = opts.fromPds ?? io.state.load(identity.did)?.oldPds;
  if (known) return known;
  const theirs = await new XrpcClient(identity.pds).query<{ did: string }>('com.atproto.server.describeServer').catch(() => undefined);
  if (theirs?.did === hereDid) {
    throw new MigrationStop(`the DID document of ${identity.did} already names the new PDS: give the old PDS's URL with --from-pds`, false);
  }
  return identity.pds;
}

/** The old handle, unless it is under one of the old PDS's own domains the new PDS does not offer. */
async function defaultHandle(old: XrpcClient, handle: string, domains: readonly string[]): Promise<string> {
  const theirs = await old.query<{ availableUserDomains?: string[] }>('com.atproto.server.describeServer').then(
    (d) => d.availableUserDomains ?? [],
    () => [] as string[],
  );
  const underTheirs = theirs.find((domain) => handle.endsWith(domain));
  if (underTheirs === undefined || domains.includes(underTheirs) || domains.length === 0) return handle;
  return `${handle.slice(0, -underTheirs.length)}${domains[0]}`;
}

/**
 * The account's preferences on one PDS, or why that PDS has none to give or take: an official PDS
 * with no AppView configured answers `400 InvalidRequest` ("No service configured"), one without
 * the method `501`. Other failures are thrown.
 */
async function preferencesOrNone(client: XrpcClient, name: string): Promise<unknown[] | string> {
  try {
    return (await client.query<{ preferences: unknown[] }>('app.bsky.actor.getPreferences')).preferences;
  } catch (err) {
    const unserved = err instanceof XrpcCallError && ((err.status === 400 && err.error === 'InvalidRequest') || err.status === 501);
    if (!unserved) throw err;
    return `${name} keeps no preferences (${err.message}): none to copy`;
  }
}

/** Preferences as a set: computed ones (the declared age) left out, order ignored. */
function comparable(prefs: unknown[]): string[] {
  return prefs
    .filter((p) => (p as { $type?: string }).$type !== DECLARED_AGE)
    .map((p) => JSON.stringify(p))
    .sort();
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export { XrpcCallError };
