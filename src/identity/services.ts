// The identity services the application shares: one DID resolver and one handle resolver (so
// their caches are shared by every caller), wired to the context's guarded fetch and PLC client.
// The lead puts `identity: createAppIdentity(...)` into the context; until then `identityOf`
// builds the same object once per context.
import type { Config } from '../config.ts';
import type { GuardedFetch } from '../net/guarded-fetch.ts';
import { DidResolver } from './did-resolver.ts';
import { HandleResolver, type HandleResolverOptions } from './handle-resolver.ts';
import { IdentityResolver } from './identity-resolver.ts';
import type { PlcClient } from './plc-client.ts';

export interface AppIdentity {
  readonly dids: DidResolver;
  readonly handles: HandleResolver;
  /** Bidirectional handle ⇄ DID checks over the two resolvers above. */
  readonly resolver: IdentityResolver;
}

export interface AppIdentityDeps {
  config: Pick<Config, 'service'>;
  /** For did:web and handle well-knowns (user-controlled URLs). */
  fetch: GuardedFetch;
  plc: PlcClient;
  /** Handle resolution overrides (a DNS resolver of the operator's choice; tests pass a TXT table). */
  handles?: Omit<HandleResolverOptions, 'fetch' | 'devMode'>;
}

export function createAppIdentity(deps: AppIdentityDeps): AppIdentity {
  const devMode = deps.config.service.devMode;
  const dids = new DidResolver({ plc: deps.plc, fetch: deps.fetch, devMode });
  const handles = new HandleResolver({ ...deps.handles, fetch: deps.fetch, devMode });
  return { dids, handles, resolver: new IdentityResolver(dids, handles) };
}
