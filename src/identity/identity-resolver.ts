// Bidirectional identity: a handle is only trusted when it resolves to a DID *and* that DID's
// document claims the handle back. Also the one place that wires the resolvers from the config.
import type { Config } from '../config.ts';
import { createGuardedFetch, type GuardedFetch } from '../net/guarded-fetch.ts';
import { createTrustedFetch } from '../net/trusted-fetch.ts';
import type { AtprotoIdentity } from './did-document.ts';
import { DidResolver } from './did-resolver.ts';
import { HandleResolver } from './handle-resolver.ts';
import { PlcClient } from './plc-client.ts';

/** A DID's identity with the handle confirmed both ways, or `handle` absent when it is not. */
export interface VerifiedIdentity extends AtprotoIdentity {
  /** The document's claimed handle, which failed to resolve back, when it did. */
  unverifiedHandle?: string;
}

export class IdentityResolver {
  constructor(
    readonly dids: DidResolver,
    readonly handles: HandleResolver,
  ) {}

  /**
   * handle → DID → document; the identity when the document claims the handle, else undefined.
   * `forceRefresh` re-resolves both sides (e.g. right after a handle change).
   */
  async resolveHandle(handle: string, opts: { forceRefresh?: boolean } = {}): Promise<AtprotoIdentity | undefined> {
    const did = await this.handles.resolve(handle, opts);
    if (did === undefined) return undefined;
    const identity = await this.dids.resolveIdentity(did, opts);
    return identity.handle === handle.toLowerCase() ? identity : undefined;
  }

  /** DID → document → claimed handle → back to the DID; the handle is kept only if it round-trips. */
  async resolveDid(did: string, opts: { forceRefresh?: boolean } = {}): Promise<VerifiedIdentity> {
    const identity = await this.dids.resolveIdentity(did, opts);
    if (identity.handle === undefined) return identity;
    const back = await this.handles.resolve(identity.handle, opts).catch(() => undefined);
    if (back === did) return identity;
    const { handle, ...rest } = identity;
    return { ...rest, unverifiedHandle: handle };
  }
}

export interface IdentityServices {
  fetch: GuardedFetch;
  plc: PlcClient;
  dids: DidResolver;
  handles: HandleResolver;
  identity: IdentityResolver;
}

/** Builds the outbound fetch, PLC client and resolvers from the validated config. */
export function createIdentityServices(config: Pick<Config, 'identity' | 'service' | 'net'>): IdentityServices {
  const fetch = createGuardedFetch({ disableSsrfProtection: config.net.disableSsrfProtection });
  const plc = new PlcClient({ url: config.identity.plcUrl, fetch: createTrustedFetch([config.identity.plcUrl]) });
  const devMode = config.service.devMode;
  const dids = new DidResolver({ plc, fetch, devMode });
  const handles = new HandleResolver({ fetch, devMode });
  return { fetch, plc, dids, handles, identity: new IdentityResolver(dids, handles) };
}
