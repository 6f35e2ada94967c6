// Changing an account's own handle (com.atproto.identity.updateHandle), apart from HTTP. The
// order matters: the handle is checked, then the DID document is made to name it, then the
// account row and the `#identity` event change together. A server never claims a handle its
// DID document does not, and a failed PLC update leaves the account as it was.
import type { AccountStore } from '../../../../accounts/account-store.ts';
import { AccountError } from '../../../../accounts/errors.ts';
import { checkHandle, serviceDomainOf } from '../../../../accounts/handle-policy.ts';
import { DidDeactivatedError, DidNotFoundError, PlcOperationError, PlcRequestError } from '../../../../identity/errors.ts';
import type { PlcClient } from '../../../../identity/plc-client.ts';
import type { PlcSigner } from '../../../../identity/plc-types.ts';
import { hasReservedTld } from '../../../../identity/reserved-tlds.ts';
import type { AppIdentity } from '../../../../identity/services.ts';
import type { GroupCommitter } from '../../../../repo/group-commit.ts';
import type { Firehose } from '../../../../sync/firehose.ts';
import type { SequencerLog } from '../../../../sync/sequencer-log.ts';
import { IdentityFlowError } from './identity-flow-errors.ts';

export interface HandleChangeDeps {
  accounts: AccountStore;
  handleDomains: readonly string[];
  devMode: boolean;
  identity: Pick<AppIdentity, 'dids' | 'handles'>;
  plc: Pick<PlcClient, 'getDocumentData' | 'updateHandle'>;
  rotationKey: PlcSigner;
  committer: GroupCommitter;
  sequencer: SequencerLog;
  firehose: Pick<Firehose, 'notify'>;
}

/**
 * Handles being taken right now, in this process: two accounts asking for the same new handle
 * at once must not both get their DID documents changed before one of them loses the race for
 * the account row.
 */
const claimingBy = new WeakMap<AccountStore, Set<string>>();

/** Sets the account's handle; returns it normalized. Throws `AccountError` or `IdentityFlowError`. */
export async function changeOwnHandle(deps: HandleChangeDeps, did: string, input: string): Promise<string> {
  const handle = checkHandle(input, deps.handleDomains, { allowExternal: true });
  const external = serviceDomainOf(handle, deps.handleDomains) === undefined;
  // Our own domains are the operator's choice (`.test` in development); others must be real.
  if (external && hasReservedTld(handle, { allowTest: deps.devMode })) throw new AccountError('InvalidHandle', 'Handle TLD is invalid or disallowed');
  assertFree(deps.accounts, did, handle);
  let claiming = claimingBy.get(deps.accounts);
  if (claiming === undefined) claimingBy.set(deps.accounts, (claiming = new Set()));
  if (claiming.has(handle)) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
  claiming.add(handle);
  try {
    if (external) await assertResolvesTo(deps, handle, did);
    await ensureDocumentNames(deps, did, handle);
    const previous = deps.accounts.byDid(did)?.handle;
    await deps.committer.run(() => {
      assertFree(deps.accounts, did, handle);
      deps.accounts.updateHandle(did, handle);
      deps.sequencer.append(did, 'identity', { did, handle });
    });
    deps.firehose.notify();
    if (previous !== undefined) deps.identity.handles.invalidate(previous);
    deps.identity.handles.invalidate(handle);
    deps.identity.dids.invalidate(did);
    return handle;
  } finally {
    claiming.delete(handle);
  }
}

function assertFree(accounts: AccountStore, did: string, handle: string): void {
  const holder = accounts.byHandle(handle);
  if (holder !== undefined && holder.did !== did) throw new AccountError('HandleNotAvailable', `Handle already taken: ${handle}`);
}

/** A handle outside our domains must already point at the caller (DNS TXT or its well-known). */
async function assertResolvesTo(deps: HandleChangeDeps, handle: string, did: string): Promise<void> {
  const resolved = await deps.identity.handles.resolve(handle, { forceRefresh: true });
  if (resolved !== did) {
    throw new IdentityFlowError(
      'InvalidRequest',
      resolved === undefined ? `External handle did not resolve to DID: ${handle} resolves to nothing` : 'External handle did not resolve to DID',
    );
  }
}

/**
 * did:plc: the document is updated through the PLC directory, signed with the server's rotation
 * key, unless it already names the handle (a repeated call, or a migration that set it).
 * did:web: the account controls its own document, which must name the handle already.
 */
async function ensureDocumentNames(deps: HandleChangeDeps, did: string, handle: string): Promise<void> {
  const uri = `at://${handle}`;
  if (did.startsWith('did:plc:')) {
    try {
      const data = await deps.plc.getDocumentData(did);
      if (data.alsoKnownAs.find((aka) => aka.startsWith('at://'))?.toLowerCase() === uri) return;
      await deps.plc.updateHandle(did, deps.rotationKey, handle);
    } catch (err) {
      throw plcFailure(err);
    }
    return;
  }
  let named: string | undefined;
  try {
    named = (await deps.identity.dids.resolveIdentity(did, { forceRefresh: true })).handle;
  } catch (err) {
    throw new IdentityFlowError('UpstreamFailure', `Could not resolve the DID document of ${did}: ${(err as Error).message}`, { cause: err });
  }
  if (named !== handle) throw new IdentityFlowError('InvalidRequest', 'DID is not properly configured for handle');
}

function plcFailure(err: unknown): Error {
  if (err instanceof PlcOperationError) {
    // The server's rotation key is no longer among the DID's: the user moved control elsewhere.
    return new IdentityFlowError('InvalidRequest', `This server cannot update the DID document: ${err.message}`, { cause: err });
  }
  if (err instanceof DidDeactivatedError) return new IdentityFlowError('InvalidRequest', 'The DID is deactivated (tombstoned)', { cause: err });
  if (err instanceof DidNotFoundError || err instanceof PlcRequestError) {
    return new IdentityFlowError('UpstreamFailure', `The PLC directory did not take the handle change: ${err.message}`, { cause: err });
  }
  return err as Error;
}
