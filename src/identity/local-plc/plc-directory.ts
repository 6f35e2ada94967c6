// A did:plc directory of Squall's own, for a local playground: the same operations, checks and
// answers as the public directory (did-method-plc), kept in Squall's database. Accepting an
// operation applies the directory's rules: a genesis must hash to its DID and be signed by one of
// its own rotation keys; any later one must point (`prev`) at a valid operation of the DID and be
// signed by a rotation key in force there; pointing further back than the head forks history,
// which only a key ranked above the signer of the first operation forked away may do, within 72
// hours of it (recovery); nothing follows a tombstone.
import { verifySignatureSync } from '../../crypto/index.ts';
import { encodeCbor } from '../../ipld/cbor.ts';
import { DidDeactivatedError, DidNotFoundError, InvalidDidError, PlcOperationError } from '../errors.ts';
import { cidForPlcOperation, didForGenesisOperation, isPlcDid } from '../plc-hash.ts';
import { assertValidPlcOperation, findPlcOperationSigner, normalizePlcOperation, parsePlcOperation } from '../plc-validate.ts';
import { decodeBase64Url } from '../signature.ts';
import type { AnyPlcOperation, PlcAuditEntry, PlcData, PlcOperation, PlcTombstone } from '../plc-types.ts';
import { formatPlcDocument, type PlcDocument } from './plc-document.ts';
import { PlcHeadMovedError, type PlcOperationStore, type StoredPlcOperation } from './plc-store.ts';

/** How long a higher-ranked rotation key may fork away an operation (did-method-plc). */
export const PLC_RECOVERY_WINDOW_MS = 72 * 3600_000;
const OPERATION_KEYS = new Set(['type', 'rotationKeys', 'verificationMethods', 'alsoKnownAs', 'services', 'prev', 'sig']);
const TOMBSTONE_KEYS = new Set(['type', 'prev', 'sig']);

export class LocalPlcDirectory {
  readonly #store: PlcOperationStore;
  readonly #now: () => Date;

  constructor(store: PlcOperationStore, options: { now?: () => Date } = {}) {
    this.#store = store;
    this.#now = options.now ?? (() => new Date());
  }

  /** The DID document, as the directory renders it. */
  async document(did: string): Promise<PlcDocument> {
    return formatPlcDocument(await this.data(did));
  }

  /** The current state (rotation keys included). */
  async data(did: string): Promise<PlcData> {
    const valid = await this.#validOperations(did);
    const last = valid[valid.length - 1].operation;
    if (last.type === 'plc_tombstone') throw new DidDeactivatedError(`DID not available: ${did}`);
    const { rotationKeys, verificationMethods, alsoKnownAs, services } = normalizePlcOperation(last);
    return { did, rotationKeys, verificationMethods, alsoKnownAs, services };
  }

  /** The valid operation chain, oldest first. */
  async log(did: string): Promise<AnyPlcOperation[]> {
    return (await this.#validOperations(did)).map((op) => op.operation);
  }

  /** Every operation accepted for the DID, nullified ones included. */
  async auditLog(did: string): Promise<PlcAuditEntry[]> {
    return (await this.#allOperations(did)).map(toAuditEntry);
  }

  async lastOperation(did: string): Promise<AnyPlcOperation> {
    const valid = await this.#validOperations(did);
    return valid[valid.length - 1].operation;
  }

  /** Operations of every DID created after `after`, oldest first, at most `count`. */
  async export(after: Date | undefined, count: number): Promise<PlcAuditEntry[]> {
    return (await this.#store.exportAfter(after, count)).map(toAuditEntry);
  }

  /** Checks an operation against the DID's log and appends it. Throws `PlcOperationError` with the reason. */
  async submit(did: string, value: unknown): Promise<void> {
    checkDid(did);
    const op = parseNewOperation(value);
    const cid = cidForPlcOperation(op);
    for (let attempt = 0; ; attempt++) {
      const all = await this.#store.operations(did);
      const valid = all.filter((o) => !o.nullified);
      if (all.some((o) => o.cid === cid)) throw new PlcOperationError('this operation is already in the log');
      const nullify = valid.length === 0 ? checkGenesis(did, op) : this.#checkNext(op, valid);
      try {
        await this.#store.append({ did, cid, operation: op, createdAt: this.#now(), nullify, expectedHead: valid.at(-1)?.cid ?? null });
        return;
      } catch (err) {
        // Two operations for one DID at once: validate again against the new head (once).
        if (!(err instanceof PlcHeadMovedError) || attempt > 0) throw err;
      }
    }
  }

  /** Checks an operation that follows existing ones; returns the CIDs it forks away. */
  #checkNext(op: PlcOperation | PlcTombstone, valid: StoredPlcOperation[]): string[] {
    if (op.prev === null) throw new PlcOperationError('the DID exists: a new operation needs prev');
    const at = valid.findIndex((o) => o.cid === op.prev);
    if (at === -1) throw new PlcOperationError('prev is not a valid operation of this DID');
    const base = valid[at].operation;
    if (base.type === 'plc_tombstone') throw new PlcOperationError('the DID is deactivated: nothing can follow a tombstone');
    const keys = normalizePlcOperation(base).rotationKeys;
    const forked = valid.slice(at + 1);
    if (forked.length === 0) {
      if (findStrictSigner(op, keys) === undefined) throw new PlcOperationError('invalid signature: not signed by a rotation key in force');
      return [];
    }
    const disputed = findPlcOperationSigner(forked[0].operation, keys);
    const stronger = disputed === undefined ? [] : keys.slice(0, keys.indexOf(disputed));
    if (findStrictSigner(op, stronger) === undefined) {
      throw new PlcOperationError('invalid signature: forking history needs a rotation key ranked above the one that signed the operation it replaces');
    }
    const lapsed = this.#now().getTime() - forked[0].createdAt.getTime();
    if (lapsed > PLC_RECOVERY_WINDOW_MS) throw new PlcOperationError('recovery is too late: the 72 hour window has passed');
    return forked.map((o) => o.cid);
  }

  async #allOperations(did: string): Promise<StoredPlcOperation[]> {
    checkDid(did);
    const all = await this.#store.operations(did);
    if (all.length === 0) throw new DidNotFoundError(`DID not registered: ${did}`);
    return all;
  }

  async #validOperations(did: string): Promise<StoredPlcOperation[]> {
    return (await this.#allOperations(did)).filter((o) => !o.nullified);
  }
}

function checkDid(did: string): void {
  if (!isPlcDid(did)) throw new InvalidDidError(`not a did:plc: ${did.slice(0, 100)}`);
}

function toAuditEntry(op: StoredPlcOperation): PlcAuditEntry {
  return { did: op.did, operation: op.operation, cid: op.cid, nullified: op.nullified, createdAt: op.createdAt.toISOString() };
}

/** A submitted operation: the regular or tombstone form only (no legacy `create`), no extra fields, within limits. */
function parseNewOperation(value: unknown): PlcOperation | PlcTombstone {
  const op = parsePlcOperation(value);
  if (op.type === 'create') throw new PlcOperationError('legacy create operations are no longer accepted');
  const allowed = op.type === 'plc_tombstone' ? TOMBSTONE_KEYS : OPERATION_KEYS;
  const extra = Object.keys(op).find((key) => !allowed.has(key));
  if (extra !== undefined) throw new PlcOperationError(`unexpected field in operation: ${extra.slice(0, 50)}`);
  assertValidPlcOperation(op);
  return op;
}

function checkGenesis(did: string, op: PlcOperation | PlcTombstone): string[] {
  if (op.type !== 'plc_operation' || op.prev !== null) throw new PlcOperationError('the DID does not exist: the first operation must be a genesis (prev: null)');
  if (didForGenesisOperation(op) !== did) throw new PlcOperationError('the genesis operation does not hash to this DID');
  if (findStrictSigner(op, op.rotationKeys) === undefined) throw new PlcOperationError('invalid signature: the genesis operation is not signed by one of its rotation keys');
  return [];
}

/** The first of `keys` that signed the new operation, low-S signatures only (as the directory requires of new ones). */
function findStrictSigner(op: PlcOperation | PlcTombstone, keys: readonly string[]): string | undefined {
  const sig = decodeBase64Url(op.sig);
  if (sig === undefined || sig.length !== 64) return undefined;
  const { sig: _omit, ...unsigned } = op;
  const bytes = encodeCbor(unsigned);
  return keys.find((key) => {
    try {
      return verifySignatureSync(key, bytes, sig);
    } catch {
      return false; // an unusable key cannot have signed
    }
  });
}
