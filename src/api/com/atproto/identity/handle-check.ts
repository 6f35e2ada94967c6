// Whether an account's handle is confirmed both ways, for describeRepo's `handleIsCorrect`:
// the handle must lead to the DID, and the DID document must name the handle. Both lookups go
// through the shared resolvers, so repeated calls are answered from their caches.
import { serviceDomainOf } from '../../../../accounts/handle-policy.ts';
import type { DidDocument } from '../../../../identity/did-document.ts';
import type { AppIdentity } from '../../../../identity/services.ts';

export interface HandleCheck {
  handleIsCorrect: boolean;
  /** The DID document as its method publishes it, when it could be resolved. */
  document?: DidDocument;
}

export async function checkAccountHandle(
  deps: { identity: Pick<AppIdentity, 'dids' | 'handles'>; handleDomains: readonly string[] },
  account: { did: string; handle: string },
): Promise<HandleCheck> {
  const { did, handle } = account;
  // Under our own domains the account row is the authority (we answer the handle's
  // well-known from it); any other handle must still point at the DID out there.
  const forward =
    serviceDomainOf(handle, deps.handleDomains) !== undefined
      ? Promise.resolve(true)
      : deps.identity.handles.resolve(handle).then((resolved) => resolved === did, () => false);
  const backward = deps.identity.dids.resolve(did).then(
    (resolved) => ({ named: resolved.identity.handle === handle, document: resolved.document }),
    () => ({ named: false, document: undefined }),
  );
  const [handleLeadsToDid, doc] = await Promise.all([forward, backward]);
  return { handleIsCorrect: handleLeadsToDid && doc.named, document: doc.document };
}
