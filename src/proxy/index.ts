// Service proxying: app.bsky.*, chat.bsky.*, reports and any method an `atproto-proxy` header
// names, forwarded to the service that answers it. See routes.ts for where calls go and
// forward.ts for how.
import type { AuthState } from '../auth/types.ts';
import type { AppContext } from '../context.ts';
import type { Forwarder, Registry } from '../xrpc/index.ts';
import { decodeCbor } from '../ipld/cbor.ts';
import { dataToJson } from '../ipld/data-model.ts';
import { RecordIndex } from '../repo/record-index.ts';
import { createForwarder } from './forward.ts';
import { ReadAfterWrite } from './read-after-write/index.ts';
import type { Json } from './read-after-write/local-records.ts';
import { createServiceCall } from './service-call.ts';
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
    disableSsrfProtection: config.net.disableSsrfProtection,
  });
  const tokens = new ServiceTokens((did) => ctx.signingKeys.get(did));
  const records = new RecordIndex(ctx.db);
  const appView = config.services.appView;
  const readAfterWrite = new ReadAfterWrite({
    records,
    repoRev: (did) => ctx.repo.rootOrUndefined(did)?.rev,
    profileOf: (did) => {
      const row = records.getWithBytes(did, 'app.bsky.actor.profile', 'self');
      return row && (dataToJson(decodeCbor(row.bytes)) as Json);
    },
    handleOf: (did) => ctx.accounts.byDid(did)?.handle,
    publicUrl: config.service.publicUrl,
    schemas: ctx.lexicons,
    maxBytes: config.proxy.maxResponseBytes,
    appView: appView && createServiceCall(appView, { upstreams, tokens, maxBytes: config.proxy.maxResponseBytes }),
    log: ctx.log,
  });
  const forwarder = createForwarder({
    routes: new ProxyRoutes(config.services),
    auth,
    dids: ctx.identity.dids,
    tokens,
    upstreams,
    readAfterWrite,
    limits: {
      jsonBodyBytes: config.service.jsonBodyLimit,
      otherBodyBytes: config.service.blobUploadLimit,
      maxResponseBytes: config.proxy.maxResponseBytes,
    },
    allowHttpEndpoints: config.net.disableSsrfProtection,
    log: ctx.log,
    onUpstream: ctx.metrics && ((service, status, seconds) => ctx.metrics!.observeUpstream(service, status, seconds)),
  });
  return { forwarder, close: () => upstreams.close() };
}
