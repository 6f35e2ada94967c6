// The OAuth authorization and resource server, assembled: keys derived from the server secret,
// the stores, the client registry, the DPoP checks, the services behind each endpoint.
import { hkdfSync } from 'node:crypto';
import type { Database } from '../db/index.ts';
import type { SafeFetch } from '../net/safe-fetch.ts';
import { ClientAuthenticator } from './client/client-auth.ts';
import { ClientRegistry } from './client/client-registry.ts';
import { DpopNonces } from './dpop/nonces.ts';
import { DpopVerifier } from './dpop/proof.ts';
import { authorizationServerMetadata, protectedResourceMetadata } from './metadata.ts';
import { MemoryReplayStore, type ReplayStore } from './replay.ts';
import { RequestService } from './request/request-service.ts';
import { ResourceVerifier } from './resource.ts';
import type { PermissionSetTitles } from './scope/describe.ts';
import { SqliteOAuthStore } from './store/sqlite-store.ts';
import type { OAuthStore } from './store/types.ts';
import { AccessTokens } from './token/access-token.ts';
import { TokenService, type PermissionExpander } from './token/token-service.ts';

export interface OAuthProviderOptions {
  /** The public origin (PDS_PUBLIC_URL): the issuer, and the origin DPoP proofs must name. */
  issuer: string;
  /** The PDS's service DID: the audience of access tokens. */
  serviceDid: string;
  /** The server secret the OAuth keys are derived from. */
  secret: string;
  db: Database;
  /** The guarded fetch: client metadata documents are user-controlled URLs. */
  fetch: SafeFetch;
  /** Development: client ids may carry a port. */
  devMode: boolean;
  trustedClients: readonly string[];
  canIssueFor: (did: string) => boolean;
  expandPermissions?: PermissionExpander;
  checkPermissionSets?: (scope: string) => Promise<void>;
  permissionSetTitles?: PermissionSetTitles;
  /**
   * Whether one DPoP key (or client) may hold at most a tenth of the memory of used one-time values
   * (429 past it). Off only when the operator turned rate limits off. Default true.
   */
  replayShares?: boolean;
  now?: () => number;
}

export class OAuthProvider {
  readonly issuer: string;
  readonly store: OAuthStore;
  readonly replay: ReplayStore;
  readonly nonces: DpopNonces;
  readonly dpop: DpopVerifier;
  readonly clients: ClientRegistry;
  readonly clientAuth: ClientAuthenticator;
  readonly accessTokens: AccessTokens;
  readonly tokens: TokenService;
  readonly requests: RequestService;
  readonly resource: ResourceVerifier;
  /** Key of the pages' CSRF tokens. */
  readonly csrfKey: Buffer;
  /** Titles of resolved `include:` permission sets, for the consent page. */
  readonly permissionSetTitles: PermissionSetTitles;

  constructor(options: OAuthProviderOptions) {
    const now = options.now ?? Date.now;
    this.issuer = options.issuer;
    this.store = new SqliteOAuthStore(options.db);
    this.replay = new MemoryReplayStore(200_000, now, options.replayShares === false ? Infinity : undefined);
    this.nonces = new DpopNonces(deriveKey(options.secret, 'dpop-nonce'), undefined, now);
    this.dpop = new DpopVerifier(this.nonces, this.replay, now);
    this.clients = new ClientRegistry({ fetch: options.fetch, rules: { allowPort: options.devMode }, trusted: new Set(options.trustedClients) });
    this.clientAuth = new ClientAuthenticator(this.clients, this.replay, this.issuer, now);
    this.accessTokens = new AccessTokens(deriveKey(options.secret, 'access-token'), this.issuer, options.serviceDid, now);
    this.tokens = new TokenService({
      store: this.store,
      accessTokens: this.accessTokens,
      expandPermissions: options.expandPermissions ?? (async (scope) => scope),
      canIssueFor: options.canIssueFor,
      now,
    });
    this.requests = new RequestService({ store: this.store, replay: this.replay, checkPermissionSets: options.checkPermissionSets ?? (async () => {}), now });
    this.resource = new ResourceVerifier({ accessTokens: this.accessTokens, dpop: this.dpop, sessions: this.store, publicOrigin: this.issuer, now });
    this.csrfKey = deriveKey(options.secret, 'csrf');
    this.permissionSetTitles = options.permissionSetTitles ?? (() => undefined);
  }

  authorizationServerMetadata() {
    return authorizationServerMetadata(this.issuer);
  }

  protectedResourceMetadata() {
    return protectedResourceMetadata(this.issuer);
  }
}

/** A key of its own for each use, from the one server secret (HKDF-SHA256). */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'squall-oauth', purpose, 32));
}
