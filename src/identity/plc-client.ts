// The PLC directory's HTTP API (`GET /:did`, `/:did/data`, `/:did/log`, `/:did/log/audit`,
// `/:did/log/last`, `POST /:did`), spoken through the outbound guard. The base URL comes from the
// config (PDS_DID_PLC_URL), so it is fetched with the trusted fetch: a directory on the operator's
// own network (or loopback) needs no extra setting.
import type { FetchCallOptions, SafeResponse } from '../net/safe-fetch.ts';
import { createTrustedFetch, type TrustedFetch } from '../net/trusted-fetch.ts';
import type { InProcessPlcFetch } from './local-plc/plc-in-process.ts';

/** The configured directory over the network (trusted), or the built-in one in process. */
export type PlcFetch = TrustedFetch | InProcessPlcFetch;
import { parseDidDocument, type DidDocument } from './did-document.ts';
import { DidDeactivatedError, DidNotFoundError, InvalidDidError, PlcOperationError, PlcRequestError } from './errors.ts';
import { isPlcDid } from './plc-hash.ts';
import { updateHandleOperation, updatePdsOperation, updateSigningKeyOperation } from './plc-operation.ts';
import { assertValidPlcOperation, parsePlcOperation } from './plc-validate.ts';
import type { AnyPlcOperation, PlcAuditEntry, PlcData, PlcOperation, PlcSigner, PlcTombstone } from './plc-types.ts';

export interface PlcClientOptions {
  /** Directory base URL, e.g. https://plc.directory. */
  url: string;
  /** Default: a trusted fetch for `url`'s origin. */
  fetch?: PlcFetch;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
}

// A document or a single operation is a few KB; logs grow with every handle change.
const SMALL_BODY = 256 * 1024;
const LOG_BODY = 8 * 1024 * 1024;

export class PlcClient {
  readonly url: string;
  readonly #fetch: PlcFetch;
  readonly #timeoutMs: number;

  constructor(options: PlcClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? createTrustedFetch([this.url]);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The DID document as the directory renders it. */
  async getDocument(did: string): Promise<DidDocument> {
    return parseDidDocument(await this.#getJson(did, '', SMALL_BODY), did);
  }

  /** The current PLC state (rotation keys included, which the document omits). */
  async getDocumentData(did: string): Promise<PlcData> {
    const data = await this.#getJson(did, '/data', SMALL_BODY);
    if (typeof data !== 'object' || data === null || (data as PlcData).did !== did || !Array.isArray((data as PlcData).rotationKeys)) {
      throw new PlcRequestError(200, 'PLC directory sent malformed DID data');
    }
    return data as PlcData;
  }

  /** The valid operation chain, oldest first. */
  async getOperationLog(did: string): Promise<AnyPlcOperation[]> {
    const log = await this.#getJson(did, '/log', LOG_BODY);
    if (!Array.isArray(log)) throw new PlcRequestError(200, 'PLC directory sent a log that is not an array');
    return log.map((op) => this.#parseOp(op));
  }

  /** Every operation ever accepted for the DID, nullified forks included, with CIDs and times. */
  async getAuditLog(did: string): Promise<PlcAuditEntry[]> {
    const log = await this.#getJson(did, '/log/audit', LOG_BODY);
    if (!Array.isArray(log)) throw new PlcRequestError(200, 'PLC directory sent an audit log that is not an array');
    return log.map((entry: unknown) => {
      const e = entry as Partial<PlcAuditEntry>;
      if (typeof e !== 'object' || e === null || e.did !== did || typeof e.cid !== 'string' || typeof e.nullified !== 'boolean' || typeof e.createdAt !== 'string') {
        throw new PlcRequestError(200, 'PLC directory sent a malformed audit entry');
      }
      return { did, operation: this.#parseOp(e.operation), cid: e.cid, nullified: e.nullified, createdAt: e.createdAt };
    });
  }

  /** The latest valid operation: what the next operation's `prev` must point at. */
  async getLastOperation(did: string): Promise<AnyPlcOperation> {
    return this.#parseOp(await this.#getJson(did, '/log/last', SMALL_BODY));
  }

  /** Submits a signed operation (genesis included). Throws `PlcRequestError` with the directory's reason. */
  async submitOperation(did: string, op: PlcOperation | PlcTombstone): Promise<void> {
    checkDid(did);
    assertValidPlcOperation(op);
    const res = await this.#request(`/${did}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(op),
      maxBytes: SMALL_BODY,
    });
    if (res.status < 200 || res.status > 299) {
      throw new PlcRequestError(res.status, `PLC directory refused the operation (${res.status}): ${serverMessage(res)}`);
    }
  }

  /** Fetches the last operation, signs a handle change on top of it and submits it. */
  async updateHandle(did: string, signer: PlcSigner, handle: string): Promise<PlcOperation> {
    return this.#update(did, (last) => updateHandleOperation(last, signer, handle));
  }

  async updatePds(did: string, signer: PlcSigner, endpoint: string): Promise<PlcOperation> {
    return this.#update(did, (last) => updatePdsOperation(last, signer, endpoint));
  }

  async updateSigningKey(did: string, signer: PlcSigner, signingKey: string): Promise<PlcOperation> {
    return this.#update(did, (last) => updateSigningKeyOperation(last, signer, signingKey));
  }

  async #update(did: string, build: (last: Exclude<AnyPlcOperation, PlcTombstone>) => Promise<PlcOperation>): Promise<PlcOperation> {
    const last = await this.getLastOperation(did);
    if (last.type === 'plc_tombstone') throw new DidDeactivatedError(`${did} is deactivated`);
    const op = await build(last);
    await this.submitOperation(did, op);
    return op;
  }

  #parseOp(value: unknown): AnyPlcOperation {
    try {
      return parsePlcOperation(value);
    } catch (err) {
      throw new PlcRequestError(200, `PLC directory sent a malformed operation: ${(err as PlcOperationError).message}`);
    }
  }

  async #getJson(did: string, suffix: string, maxBytes: number): Promise<unknown> {
    checkDid(did);
    const res = await this.#request(`/${did}${suffix}`, { headers: { accept: 'application/json' }, maxBytes });
    const message = res.status === 200 ? '' : serverMessage(res);
    // Older directories answer 404 "DID not available" for a tombstoned DID; newer ones 410.
    if (res.status === 410 || (res.status === 404 && message.startsWith('DID not available'))) {
      throw new DidDeactivatedError(`${did} is deactivated`);
    }
    if (res.status === 404) throw new DidNotFoundError(`${did} is not registered with the PLC directory`);
    if (res.status !== 200) throw new PlcRequestError(res.status, `PLC directory answered ${res.status}: ${message}`);
    try {
      return res.json();
    } catch {
      throw new PlcRequestError(res.status, 'PLC directory sent invalid JSON');
    }
  }

  async #request(path: string, init: FetchCallOptions): Promise<SafeResponse> {
    try {
      return await this.#fetch(this.url + path, { timeoutMs: this.#timeoutMs, ...init });
    } catch (err) {
      throw new PlcRequestError(0, `PLC directory unreachable: ${(err as Error).message}`, { cause: err });
    }
  }
}

function checkDid(did: string): void {
  if (!isPlcDid(did)) throw new InvalidDidError(`not a did:plc: ${did.slice(0, 100)}`);
}

/** The directory's `{ message }` (or plain text), shortened: it can echo the whole operation. */
function serverMessage(res: SafeResponse): string {
  let text = res.text();
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof body.message === 'string') text = body.message;
    else if (typeof body.error === 'string') text = body.error;
  } catch {
    // Not JSON: use the text as it is.
  }
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
