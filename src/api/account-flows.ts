import type { AccountStateDeps } from '../accounts/account-state.ts';
import type { AccountBlobRemover, DeleteAccountDeps } from '../accounts/delete-account.ts';
import type { DidDocCheckDeps } from '../accounts/did-doc-check.ts';
import { EmailTokens } from '../accounts/email-tokens.ts';
import type { EmailFlowDeps } from '../accounts/email-flows.ts';
import { ReservedSigningKeys } from '../accounts/reserved-keys.ts';
import type { AppContext } from '../context.ts';
import type { RateLimitSpec } from '../xrpc/index.ts';

// What the account-flow handlers hand to the domain modules, built from the context. The
// stores are plain objects over the shared database, made once per context.

const tokenStores = new WeakMap<AppContext, EmailTokens>();
const reservedKeyStores = new WeakMap<AppContext, ReservedSigningKeys>();

export function emailTokens(ctx: AppContext): EmailTokens {
  let tokens = tokenStores.get(ctx);
  if (!tokens) tokenStores.set(ctx, (tokens = new EmailTokens(ctx.db)));
  return tokens;
}

export function reservedKeys(ctx: AppContext): ReservedSigningKeys {
  let keys = reservedKeyStores.get(ctx);
  if (!keys) reservedKeyStores.set(ctx, (keys = new ReservedSigningKeys(ctx.db)));
  return keys;
}

export function emailFlowDeps(ctx: AppContext): EmailFlowDeps {
  return { db: ctx.db, accounts: ctx.accounts, tokens: emailTokens(ctx), mailer: ctx.mailer, sessions: ctx.sessions };
}

export function accountStateDeps(ctx: AppContext): AccountStateDeps {
  return {
    db: ctx.db,
    accounts: ctx.accounts,
    committer: ctx.committer,
    sequencer: ctx.sequencer,
    firehose: ctx.firehose,
    repo: ctx.repo,
    sessions: ctx.sessions,
    requestCrawl: () => ctx.crawlers.notify(),
  };
}

export function didCheckDeps(ctx: AppContext): DidDocCheckDeps {
  return { plc: ctx.plc, rotationKeyDid: ctx.rotationKey.did(), publicUrl: ctx.config.service.publicUrl, dids: ctx.identity.dids };
}

export function deleteAccountDeps(ctx: AppContext): DeleteAccountDeps {
  return {
    db: ctx.db,
    accounts: ctx.accounts,
    repo: ctx.repo,
    sequencer: ctx.sequencer,
    signingKeys: ctx.signingKeys,
    blobs: blobRemover(ctx),
  };
}

/** Account deletion hands the account's blobs to the blob service. */
function blobRemover(ctx: AppContext): AccountBlobRemover {
  return ctx.blobs;
}

// ---- Rate limits -------------------------------------------------------------------------

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The DID of the calling session (rate limits run after the auth verifier, with its verdict). */
export function callerDid({ auth }: { auth: unknown }): string | undefined {
  const state = auth as { type?: unknown; did?: unknown } | undefined;
  return state?.type === 'access' && typeof state.did === 'string' ? state.did : undefined;
}

const inputField = (field: string) => ({ input }: { input: unknown }) => {
  const value = (input as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'string' ? value.trim().toLowerCase() : undefined;
};

/**
 * Methods that mail a code to the caller's own address. Per account: the official PDS's 5 an
 * hour and 15 a day. Per IP, shared by all of them: 50 an hour, so one address cannot mail
 * through many accounts, while people behind one NAT still get through.
 */
export function emailSendLimits(method: string): RateLimitSpec[] {
  return [
    { name: `${method}-did-hour`, points: 5, windowMs: HOUR, key: callerDid },
    { name: `${method}-did-day`, points: 15, windowMs: DAY, key: callerDid },
    { name: 'email-send-ip-hour', points: 50, windowMs: HOUR },
  ];
}

/**
 * Password reset mail: per IP the official PDS's 15 an hour and 50 a day; per address the same
 * 5 an hour and 15 a day as other mail to one account, so nobody floods someone's inbox.
 */
export const passwordResetLimits: RateLimitSpec[] = [
  { name: 'password-reset-ip-hour', points: 15, windowMs: HOUR },
  { name: 'password-reset-ip-day', points: 50, windowMs: DAY },
  { name: 'password-reset-email-hour', points: 5, windowMs: HOUR, key: inputField('email') },
  { name: 'password-reset-email-day', points: 15, windowMs: DAY, key: inputField('email') },
];

/**
 * Checks of an emailed code. Per IP the official PDS's 50 per 5 minutes. A reset code is all
 * a `resetPassword` caller gives, so there is no account to count per; the 50-bit codes live
 * 15 minutes, so guessing stays hopeless at this rate from any number of addresses.
 */
export const codeCheckIpLimit: RateLimitSpec = { name: 'email-code-ip', points: 50, windowMs: 5 * MINUTE };

/** Code checks of a signed-in account (confirmEmail, updateEmail): 50 per 5 minutes per account. */
export const codeCheckDidLimit: RateLimitSpec = { name: 'email-code-did', points: 50, windowMs: 5 * MINUTE, key: callerDid };

/**
 * `deleteAccount` checks a password, so it gets the login limits for the DID it names (30 per
 * 5 minutes, 300 a day, as `createSession` per identifier): otherwise it would be a way around
 * them to guess passwords.
 */
export const deleteAccountLimits: RateLimitSpec[] = [
  { name: 'delete-account-ip', points: 50, windowMs: 5 * MINUTE },
  { name: 'delete-account-did-5m', points: 30, windowMs: 5 * MINUTE, key: inputField('did') },
  { name: 'delete-account-did-day', points: 300, windowMs: DAY, key: inputField('did') },
];

/** `reserveSigningKey` needs no login (the account does not exist yet), so each IP gets a few keys an hour. */
export const reserveKeyLimits: RateLimitSpec[] = [{ name: 'reserve-signing-key-ip', points: 30, windowMs: HOUR }];
