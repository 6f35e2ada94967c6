// What an OAuth grant allows, compiled once per distinct scope string (every request of a session
// checks against the same one, so parsing per request would be waste). Syntax and matching rules
// of each permission come from @atproto/oauth-scopes; the transitional scopes keep the meaning the
// atproto OAuth spec gives them (`transition:generic`: what an app password may do, without chat).
import {
  AccountPermission,
  BlobPermission,
  IdentityPermission,
  RepoPermission,
  RpcPermission,
  type AccountPermissionMatch,
  type BlobPermissionMatch,
  type IdentityPermissionMatch,
  type RepoPermissionMatch,
  type RpcPermissionMatch,
} from '@atproto/oauth-scopes';

/** A request needs a permission the grant does not include; `scope` is the one that would allow it. */
export class ScopeMissingError extends Error {
  override name = 'ScopeMissingError';
  constructor(readonly scope: string) {
    super(`Missing required scope "${scope}"`);
  }
}

const CACHE_SIZE = 1024;
const compiled = new Map<string, GrantedPermissions>();

export class GrantedPermissions {
  readonly scopes: ReadonlySet<string>;
  readonly #repo: RepoPermission[] = [];
  readonly #rpc: RpcPermission[] = [];
  readonly #blob: BlobPermission[] = [];
  readonly #account: AccountPermission[] = [];
  readonly #identity: IdentityPermission[] = [];
  readonly #generic: boolean;
  readonly #chat: boolean;
  readonly #email: boolean;

  private constructor(scope: string) {
    this.scopes = new Set(scope.split(' ').filter((s) => s !== ''));
    for (const value of this.scopes) {
      const resource = value.split(/[:?]/, 1)[0];
      if (resource === 'repo') push(this.#repo, RepoPermission.fromString(value));
      else if (resource === 'rpc') push(this.#rpc, RpcPermission.fromString(value));
      else if (resource === 'blob') push(this.#blob, BlobPermission.fromString(value));
      else if (resource === 'account') push(this.#account, AccountPermission.fromString(value));
      else if (resource === 'identity') push(this.#identity, IdentityPermission.fromString(value));
    }
    this.#generic = this.scopes.has('transition:generic');
    this.#chat = this.scopes.has('transition:chat.bsky');
    this.#email = this.scopes.has('transition:email');
  }

  /** The permissions of a scope string, from a bounded cache. */
  static of(scope: string): GrantedPermissions {
    let found = compiled.get(scope);
    if (found === undefined) {
      found = new GrantedPermissions(scope);
      if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value!);
      compiled.set(scope, found);
    }
    return found;
  }

  allowsRepo(match: RepoPermissionMatch): boolean {
    return this.#generic || this.#repo.some((p) => p.matches(match));
  }

  allowsBlob(match: BlobPermissionMatch): boolean {
    return this.#generic || this.#blob.some((p) => p.matches(match));
  }

  allowsRpc(match: RpcPermissionMatch): boolean {
    const chat = match.lxm.startsWith('chat.bsky.');
    if (this.#generic && (match.lxm === '*' || !chat)) return true;
    if (this.#chat && chat) return true;
    return this.#rpc.some((p) => p.matches(match));
  }

  /** An `rpc:` permission for this method whatever its audience: for methods this PDS answers itself. */
  allowsRpcToAnyAudience(lxm: string): boolean {
    const chat = lxm.startsWith('chat.bsky.');
    if ((this.#generic && !chat) || (this.#chat && chat)) return true;
    return this.#rpc.some((p) => p.lxm.some((m) => m === '*' || m === lxm));
  }

  allowsAccount(match: AccountPermissionMatch): boolean {
    if (this.#email && match.attr === 'email' && match.action === 'read') return true;
    return this.#account.some((p) => p.matches(match));
  }

  allowsIdentity(match: IdentityPermissionMatch): boolean {
    return this.#identity.some((p) => p.matches(match));
  }

  assertRepo(match: RepoPermissionMatch): void {
    if (!this.allowsRepo(match)) throw new ScopeMissingError(RepoPermission.scopeNeededFor(match));
  }

  assertBlob(match: BlobPermissionMatch): void {
    if (!this.allowsBlob(match)) throw new ScopeMissingError(BlobPermission.scopeNeededFor(match));
  }

  assertRpc(match: RpcPermissionMatch): void {
    if (!this.allowsRpc(match)) throw new ScopeMissingError(RpcPermission.scopeNeededFor(match));
  }

  assertRpcToAnyAudience(lxm: string): void {
    if (!this.allowsRpcToAnyAudience(lxm)) throw new ScopeMissingError(`rpc:${lxm}?aud=*`);
  }

  assertAccount(match: AccountPermissionMatch): void {
    if (!this.allowsAccount(match)) throw new ScopeMissingError(AccountPermission.scopeNeededFor(match));
  }

  assertIdentity(match: IdentityPermissionMatch): void {
    if (!this.allowsIdentity(match)) throw new ScopeMissingError(IdentityPermission.scopeNeededFor(match));
  }
}

function push<T>(list: T[], value: T | null): void {
  if (value !== null) list.push(value);
}
