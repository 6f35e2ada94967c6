/**
 * What an account may do in each of its states: the one table every method consults.
 *
 * - `active`: a live account.
 * - `arriving`: created here by account migration (createAccount for an existing DID) and not yet
 *   activated. It fills itself in (repo import, blobs, preferences, identity) and then activates;
 *   until then nothing public shows its repo, and it cannot write records.
 * - `deactivated`: paused by its owner. It can sign in, read and export what it has, manage its
 *   credentials and identity, move elsewhere, delete itself or activate again, but adds nothing.
 * - `takendown`: by the operator. Only what taking the account elsewhere needs, and only in a
 *   session opened for that (`createSession` with `allowTakendown`), as the official PDS allows.
 */
export type AccountState = 'active' | 'arriving' | 'deactivated' | 'takendown';

/** The state as the outside world sees it (`#account` events, getSession, getRepoStatus, listRepos). */
export type PublicAccountStatus = 'active' | 'deactivated' | 'takendown';

/** An arriving account is deactivated to everyone but itself. */
export function publicStatus(state: AccountState): PublicAccountStatus {
  return state === 'arriving' ? 'deactivated' : state;
}

export type AccountAction =
  /** Open a session (createSession). */
  | 'signIn'
  /** Open or refresh a session only to take the account elsewhere (`allowTakendown`, refreshSession). */
  | 'signInToLeave'
  /** Read its own session and account status (getSession, checkAccountStatus, listMissingBlobs...). */
  | 'readOwnState'
  /** Export its own data: its repo, blobs and preferences (to move them elsewhere). */
  | 'exportOwnData'
  | 'writeRecords'
  | 'importRepo'
  | 'uploadBlob'
  | 'writePreferences'
  /** App passwords, email, invite codes, requesting deletion. */
  | 'manageAccount'
  /** The handle, and submitting PLC operations. */
  | 'manageIdentity'
  /** Requesting and signing PLC operations (how an account moves its identity elsewhere). */
  | 'signIdentity'
  /** Service tokens for other services' methods. */
  | 'serviceAuth'
  /** A service token for createAccount at another PDS (moving there). */
  | 'serviceAuthToLeave'
  | 'activate'
  | 'deactivate'
  /** Deleting itself with its password and a mailed code. */
  | 'deleteAccount'
  /** Anyone reading its repo: sync methods, describeRepo, records, blobs. */
  | 'publicRepoRead'
  /** Requests this server makes to other services on its behalf (AppView, chat). */
  | 'proxy';

const ALL: ReadonlySet<AccountState> = new Set(['active', 'arriving', 'deactivated', 'takendown']);
const NOT_TAKEN_DOWN: ReadonlySet<AccountState> = new Set(['active', 'arriving', 'deactivated']);
const FILLING_IN: ReadonlySet<AccountState> = new Set(['active', 'arriving']);
const ACTIVE: ReadonlySet<AccountState> = new Set(['active']);

/** The table: for each action, the states that may do it. */
const POLICY: Readonly<Record<AccountAction, ReadonlySet<AccountState>>> = {
  signIn: NOT_TAKEN_DOWN,
  signInToLeave: ALL,
  readOwnState: NOT_TAKEN_DOWN,
  exportOwnData: ALL,
  writeRecords: ACTIVE,
  importRepo: FILLING_IN,
  uploadBlob: FILLING_IN,
  writePreferences: FILLING_IN,
  manageAccount: NOT_TAKEN_DOWN,
  manageIdentity: NOT_TAKEN_DOWN,
  signIdentity: ALL,
  serviceAuth: NOT_TAKEN_DOWN,
  serviceAuthToLeave: ALL,
  activate: NOT_TAKEN_DOWN,
  deactivate: ALL,
  deleteAccount: NOT_TAKEN_DOWN,
  publicRepoRead: ACTIVE,
  proxy: NOT_TAKEN_DOWN,
};

export function allows(state: AccountState, action: AccountAction): boolean {
  return POLICY[action].has(state);
}

/** An account's state does not allow what was asked. The API layer names it as the official PDS does. */
export class AccountStateError extends Error {
  constructor(
    readonly state: AccountState,
    readonly action: AccountAction,
  ) {
    super(refusalMessage(state, action));
  }
}

/** Throws `AccountStateError` unless the state allows the action. */
export function assertAllowed(state: AccountState, action: AccountAction): void {
  if (!POLICY[action].has(state)) throw new AccountStateError(state, action);
}

function refusalMessage(state: AccountState, action: AccountAction): string {
  if (action === 'publicRepoRead') return state === 'takendown' ? 'Repo has been taken down' : 'Repo has been deactivated';
  switch (state) {
    case 'takendown':
      return 'Account has been taken down';
    case 'arriving':
      return 'Account is not active yet: it is being migrated here and must be activated first';
    case 'deactivated':
      return 'Account is deactivated';
    default:
      return 'Account state does not allow this';
  }
}
