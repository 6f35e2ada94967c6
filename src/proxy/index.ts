// Service proxying: app.bsky.*, chat.bsky.*, reports and any method an `atproto-proxy` header
// names, forwarded to the service that answers it. See routes.ts for where calls go and
// forward.ts for how.
import type { AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import type { Forwarder, Registry } from '../xrpc/index.ts';
import { createForwarder } from './forward.ts';
import { ProxyRoutes, type ProxyRoute } from './routes.ts';
import { ServiceTokens } from './service-tokens.ts';
import { Upstreams } from './upstream.ts';

export interface Proxy {
  forwarder: Forwarder<AuthState, ProxyRoute>;
  /** Closes the upstream connection pools. */
  close(): void;
}

export function createProxy(ctx: AppContext, registry: Registry<AppContext, AuthState>): Proxy {
  const { config } = ctx;
  const auth = registry.verifier('access');
  if (!auth) throw new Error('the registry has no "access" verifier for forwarded calls');
  const upstreams = new Upstreams({
    headersTimeoutMs: config.proxy.headersTimeoutMs,
    bodyTimeoutMs: config.proxy.bodyTimeoutMs,
    allowPrivateNetwork: config.identity.allowPrivateNetwork,
  });
  const forwarder = createForwarder({
    routes: new ProxyRoutes(config.services),
    auth,
    dids: ctx.identity.dids,
    tokens: new ServiceTokens((did) => ctx.signingKeys.get(did)),
    upstreams,
    limits: {
      jsonBodyBytes: config.service.jsonBodyLimit,
      otherBodyBytes: config.service.blobUploadLimit,
      maxResponseBytes: config.proxy.maxResponseBytes,
    },
    allowHttpEndpoints: config.identity.allowPrivateNetwork,
    log: ctx.log,
  });
  return { forwarder, close: () => upstreams.close() };
}
