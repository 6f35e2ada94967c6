// `include:<nsid>` scopes: permission sets published as Lexicons (permission spec, "Permission
// Sets"). A set is resolved when a client asks for it (unresolvable: the request fails) and again
// at every token refresh, so an updated set reaches existing sessions; sets are cached (fresh for
// a day, usable for 90 days when their authority cannot be reached). Expansion keeps only what the
// set may grant: repo: and rpc: permissions under its own namespace (@atproto/oauth-scopes
// enforces the namespace authority and ignores permissions it does not understand).
import { IncludeScope, type LexiconPermissionSet } from '@atproto/oauth-scopes';
import { ResolverCache } from '../../identity/resolver-cache.ts';
import { OAuthError } from '../errors.ts';

export interface LexiconSource {
  resolve(nsid: string): Promise<Record<string, unknown>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_PERMISSIONS = 256;

export class PermissionSets {
  readonly #cache: ResolverCache<LexiconPermissionSet>;

  constructor(
    private readonly lexicons: LexiconSource,
    options: { now?: () => number; onBackgroundError?: (nsid: string, err: unknown) => void } = {},
  ) {
    this.#cache = new ResolverCache({ freshMs: DAY_MS, maxAgeMs: 90 * DAY_MS, maxEntries: 1_000, now: options.now, onBackgroundError: options.onBackgroundError });
  }

  /** The permission set an NSID names. Throws OAuthError `invalid_scope` saying why it cannot be had. */
  async get(nsid: string): Promise<LexiconPermissionSet> {
    try {
      return await this.#cache.get(nsid, async () => toPermissionSet(nsid, await this.lexicons.resolve(nsid)));
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      throw new OAuthError('invalid_scope', `permission set ${nsid} cannot be resolved: ${(err as Error).message}`);
    }
  }

  /** Checks every `include:` of a scope resolves (a client may not ask for what cannot be shown). */
  async check(scope: string): Promise<void> {
    for (const include of includes(scope)) await this.get(include.nsid);
  }

  /** The scope with each `include:` replaced by the repo: and rpc: permissions its set grants. */
  async expand(scope: string): Promise<string> {
    const out = new Set<string>();
    for (const value of scope.split(' ')) {
      if (value === '') continue;
      const include = IncludeScope.fromString(value);
      if (include === null) {
        out.add(value);
        continue;
      }
      for (const granted of include.toScopes(await this.get(include.nsid))) out.add(granted);
    }
    return [...out].join(' ');
  }

  /** Title and detail of a set already resolved (for the pages; never fetches). */
  titles(nsid: string): { title?: string; detail?: string } | undefined {
    const set = this.#cache.peek(nsid);
    return set && { title: set.title, detail: set.detail };
  }
}

function includes(scope: string): IncludeScope[] {
  return scope
    .split(' ')
    .map((value) => IncludeScope.fromString(value))
    .filter((include): include is IncludeScope => include !== null);
}

function toPermissionSet(nsid: string, doc: Record<string, unknown>): LexiconPermissionSet {
  const main = (doc.defs as Record<string, unknown> | undefined)?.main as Record<string, unknown> | undefined;
  if (main?.type !== 'permission-set') throw new OAuthError('invalid_scope', `${nsid} is not a permission set (its main definition is not of type "permission-set")`);
  const permissions = Array.isArray(main.permissions) ? main.permissions.slice(0, MAX_PERMISSIONS) : [];
  return {
    type: 'permission-set',
    permissions: permissions.filter((p): p is LexiconPermissionSet['permissions'][number] => typeof p === 'object' && p !== null && (p as { type?: unknown }).type === 'permission'),
    title: typeof main.title === 'string' ? main.title.slice(0, 200) : undefined,
    detail: typeof main.detail === 'string' ? main.detail.slice(0, 500) : undefined,
  };
}
