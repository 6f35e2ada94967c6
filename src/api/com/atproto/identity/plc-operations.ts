// The PLC operation flow of account migration and key management, apart from HTTP: describe the
// credentials this server wants in a DID document, mail a code, sign an operation with the
// server's rotation key once the code is given back, and submit an operation after checking it
// leaves the identity hosted here. The checks on submission are those of the official PDS.
import type { Account, AccountStore } from '../../../../accounts/account-store.ts';
import type { EmailTokens } from '../../../../accounts/email-tokens.ts';
import type { Mailer } from '../../../../email/mailer.ts';
import { renderPlcOperation } from '../../../../email/templates.ts';
import { DidDeactivatedError, DidNotFoundError, PlcOperationError, PlcRequestError } from '../../../../identity/errors.ts';
import type { PlcClient } from '../../../../identity/plc-client.ts';
import { createUpdateOperation } from '../../../../identity/plc-operation.ts';
import type { PlcIdentityFields, PlcOperation, PlcService, PlcSigner } from '../../../../identity/plc-types.ts';
import { parsePlcOperation } from '../../../../identity/plc-validate.ts';
import type { GroupCommitter } from '../../../../repo/group-commit.ts';
import type { Firehose } from '../../../../sync/firehose.ts';
import type { SequencerLog } from '../../../../sync/sequencer-log.ts';
import { IdentityFlowError } from './identity-flow-errors.ts';

const PDS_SERVICE_TYPE = 'AtprotoPersonalDataServer';

/** `getRecommendedDidCredentials`: what an account's DID document should say to be hosted here. */
export function recommendedCredentials(server: { rotationKeyDid: string; publicUrl: string }, account: Pick<Account, 'handle' | 'signingKeyDid'>) {
  return {
    rotationKeys: [server.rotationKeyDid],
    alsoKnownAs: [`at://${account.handle}`],
    verificationMethods: { atproto: account.signingKeyDid },
    services: { atproto_pds: { type: PDS_SERVICE_TYPE, endpoint: server.publicUrl } },
  };
}

/** Mails the account a code that `signPlcOperation` will ask for. */
export async function requestPlcSignature(deps: { accounts: AccountStore; tokens: EmailTokens; mailer: Mailer }, did: string): Promise<void> {
  const account = deps.accounts.byDid(did);
  if (account === undefined) throw new IdentityFlowError('InvalidRequest', 'Account not found');
  if (!account.email) throw new IdentityFlowError('InvalidRequest', 'Account does not have an email address');
  const token = deps.tokens.create(did, 'plc_operation');
  await deps.mailer.send({ to: account.email, ...renderPlcOperation({ token }) });
}

export interface SignPlcInput {
  token?: string;
  rotationKeys?: unknown;
  alsoKnownAs?: unknown;
  verificationMethods?: unknown;
  services?: unknown;
}

/**
 * Signs, with the server's rotation key, the operation that follows the DID's latest one with
 * the fields given (the others kept). The emailed code is checked first and used up only once
 * the operation is signed, so a directory hiccup does not cost the user their code.
 */
export async function signPlcOperationFor(
  deps: { plc: Pick<PlcClient, 'getLastOperation'>; rotationKey: PlcSigner; tokens: EmailTokens },
  did: string,
  input: SignPlcInput,
): Promise<PlcOperation> {
  if (!input.token) throw new IdentityFlowError('InvalidRequest', 'email confirmation token required to sign PLC operations');
  deps.tokens.verify(did, 'plc_operation', input.token);
  const change = readChange(input);
  let last;
  try {
    last = await deps.plc.getLastOperation(did);
  } catch (err) {
    throw plcFailure(err);
  }
  if (last.type === 'plc_tombstone') throw new IdentityFlowError('InvalidRequest', 'Did is tombstoned');
  let operation: PlcOperation;
  try {
    operation = await createUpdateOperation(last, deps.rotationKey, (current) => ({ ...current, ...change }));
  } catch (err) {
    throw plcFailure(err);
  }
  deps.tokens.consume(did, 'plc_operation', input.token);
  return operation;
}

export interface SubmitPlcDeps {
  accounts: AccountStore;
  plc: Pick<PlcClient, 'submitOperation'>;
  rotationKeyDid: string;
  publicUrl: string;
  committer: GroupCommitter;
  sequencer: SequencerLog;
  firehose: Pick<Firehose, 'notify'>;
  /** Forgets cached resolutions of the DID once its document changed. */
  invalidate: (did: string) => void;
}

/**
 * Submits an operation the client had signed (by this server, or by a rotation key the user
 * holds), but only one that keeps the account hosted here: our rotation key, our endpoint, the
 * account's signing key and handle. Then tells the network the identity changed.
 */
export async function submitPlcOperationFor(deps: SubmitPlcDeps, did: string, input: unknown): Promise<void> {
  if (!did.startsWith('did:plc:')) throw new IdentityFlowError('InvalidRequest', 'Cannot submit plc operation for non-did:plc account');
  let op;
  try {
    op = parsePlcOperation(input);
  } catch (err) {
    throw new IdentityFlowError('InvalidRequest', `Invalid operation: ${(err as Error).message}`, { cause: err });
  }
  if (op.type !== 'plc_operation') throw new IdentityFlowError('InvalidRequest', 'Invalid operation: only plc_operation updates may be submitted');
  const account = deps.accounts.byDid(did);
  if (account === undefined) throw new IdentityFlowError('InvalidRequest', 'Account not found');
  if (!op.rotationKeys.includes(deps.rotationKeyDid)) throw new IdentityFlowError('InvalidRequest', "Rotation keys do not include server's rotation key");
  const pds = op.services.atproto_pds;
  if (pds?.type !== PDS_SERVICE_TYPE) throw new IdentityFlowError('InvalidRequest', 'Incorrect type on atproto_pds service');
  if (pds.endpoint.replace(/\/+$/, '') !== deps.publicUrl.replace(/\/+$/, '')) {
    throw new IdentityFlowError('InvalidRequest', 'Incorrect endpoint on atproto_pds service');
  }
  if (op.verificationMethods.atproto !== account.signingKeyDid) throw new IdentityFlowError('InvalidRequest', 'Incorrect signing key');
  if (op.alsoKnownAs[0] !== `at://${account.handle}`) throw new IdentityFlowError('InvalidRequest', 'Incorrect handle in alsoKnownAs');
  try {
    await deps.plc.submitOperation(did, op);
  } catch (err) {
    throw plcFailure(err);
  }
  await deps.committer.run(() => {
    deps.sequencer.append(did, 'identity', { did, handle: account.handle });
  });
  deps.firehose.notify();
  deps.invalidate(did);
}

/** The identity fields a signPlcOperation request asks to change, checked for shape. */
function readChange(input: SignPlcInput): Partial<PlcIdentityFields> {
  const change: Partial<PlcIdentityFields> = {};
  if (input.rotationKeys !== undefined) change.rotationKeys = stringArray(input.rotationKeys, 'rotationKeys');
  if (input.alsoKnownAs !== undefined) change.alsoKnownAs = stringArray(input.alsoKnownAs, 'alsoKnownAs');
  if (input.verificationMethods !== undefined) {
    const methods = record(input.verificationMethods, 'verificationMethods');
    if (!Object.values(methods).every((v) => typeof v === 'string')) invalid('verificationMethods must map names to did:key strings');
    change.verificationMethods = methods as Record<string, string>;
  }
  if (input.services !== undefined) {
    const services = record(input.services, 'services');
    const checked: Record<string, PlcService> = {};
    for (const [name, service] of Object.entries(services)) {
      const s = record(service, `services.${name}`);
      if (typeof s.type !== 'string' || typeof s.endpoint !== 'string') invalid(`services.${name} needs a string type and endpoint`);
      checked[name] = { type: s.type as string, endpoint: s.endpoint as string };
    }
    change.services = checked;
  }
  return change;
}

function stringArray(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) invalid(`${name} must be an array of strings`);
  return [...(value as string[])];
}

function record(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(`${name} must be an object`);
  return value as Record<string, unknown>;
}

function invalid(message: string): never {
  throw new IdentityFlowError('InvalidRequest', message);
}

function plcFailure(err: unknown): Error {
  if (err instanceof PlcOperationError) return new IdentityFlowError('InvalidRequest', `Invalid operation: ${err.message}`, { cause: err });
  if (err instanceof DidDeactivatedError) return new IdentityFlowError('InvalidRequest', 'Did is tombstoned', { cause: err });
  if (err instanceof PlcRequestError && err.status >= 400 && err.status < 500) {
    // The directory judged the operation itself (bad signature, wrong prev, a key not allowed).
    return new IdentityFlowError('InvalidRequest', err.message, { cause: err });
  }
  if (err instanceof PlcRequestError || err instanceof DidNotFoundError) return new IdentityFlowError('UpstreamFailure', err.message, { cause: err });
  return err as Error;
}
