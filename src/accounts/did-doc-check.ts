import type { DidResolver } from '../identity/did-resolver.ts';
import type { PlcClient } from '../identity/plc-client.ts';
import type { Account } from './account-store.ts';

export interface DidDocCheckDeps {
  plc: Pick<PlcClient, 'getDocumentData'>;
  /** did:key of the server's PLC rotation key. */
  rotationKeyDid: string;
  /** The PDS endpoint DID documents must name (config `publicUrl`). */
  publicUrl: string;
  /** did:web documents, read afresh (the user edits them; no cache may hide the edit). */
  dids?: Pick<DidResolver, 'resolveIdentity'>;
}

/**
 * Why the account's DID document does not let this server host it, or undefined when it does:
 * the document must name this PDS, the account's current signing key, and (did:plc) the
 * server's rotation key, without which the server could not update the identity it hosts.
 * These are the conditions the official PDS checks before activating an account.
 */
export async function didDocumentProblem(deps: DidDocCheckDeps, account: Pick<Account, 'did' | 'signingKeyDid'>): Promise<string | undefined> {
  if (account.did.startsWith('did:web:') && deps.dids) return didWebProblem(deps, account);
  if (!account.did.startsWith('did:plc:')) return `Only did:plc and did:web identities can be checked by this server, not ${account.did}`;
  let data;
  try {
    data = await deps.plc.getDocumentData(account.did);
  } catch (err) {
    return `Could not read the DID document from the PLC directory: ${(err as Error).message}`;
  }
  if (!data.rotationKeys.includes(deps.rotationKeyDid)) return 'Server rotation key not included in PLC DID data';
  const pds = data.services.atproto_pds;
  if (!pds || pds.type !== 'AtprotoPersonalDataServer' || pds.endpoint.replace(/\/+$/, '') !== deps.publicUrl) {
    return 'DID document atproto_pds service endpoint does not match this server';
  }
  if (data.verificationMethods.atproto !== account.signingKeyDid) return 'DID document signing key does not match the account signing key';
  return undefined;
}

/** A did:web document is its owner's to edit: it must name this PDS and the account's key (there are no rotation keys). */
async function didWebProblem(deps: DidDocCheckDeps, account: Pick<Account, 'did' | 'signingKeyDid'>): Promise<string | undefined> {
  let identity;
  try {
    identity = await deps.dids!.resolveIdentity(account.did, { forceRefresh: true });
  } catch (err) {
    return `Could not read the DID document: ${(err as Error).message}`;
  }
  if (identity.pds?.replace(/\/+$/, '') !== deps.publicUrl) return 'DID document atproto_pds service endpoint does not match this server';
  if (identity.signingKey !== account.signingKeyDid) return 'DID document signing key does not match the account signing key';
  return undefined;
}
