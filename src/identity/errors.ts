// Identity failures, kept apart so callers can tell "that is not a DID" from "we do not support
// that method" from "the DID exists nowhere" from "the network let us down" (the DID spec asks
// implementations to distinguish these). No HTTP here: the API layer maps them.

/** Not a syntactically valid DID, or a did:plc / did:web that breaks its method's rules. */
export class InvalidDidError extends Error {
  override name = 'InvalidDidError';
}

/** A valid DID of a method atproto does not bless (did:key, did:example…). */
export class UnsupportedDidMethodError extends Error {
  override name = 'UnsupportedDidMethodError';
}

/** The method's registry (PLC, the did:web host) says the DID does not exist. */
export class DidNotFoundError extends Error {
  override name = 'DidNotFoundError';
}

/** The DID existed but was deactivated (a PLC tombstone). */
export class DidDeactivatedError extends DidNotFoundError {
  override name = 'DidDeactivatedError';
}

/** Resolution failed for another reason: network, timeout, unexpected status or body. */
export class DidResolutionError extends Error {
  override name = 'DidResolutionError';
}

/** A DID document that is malformed or does not belong to the DID it was fetched for. */
export class InvalidDidDocumentError extends Error {
  override name = 'InvalidDidDocumentError';
}

/** Not a syntactically valid handle. */
export class InvalidHandleError extends Error {
  override name = 'InvalidHandleError';
}

/** A did:plc operation that is malformed, too large, badly signed or out of order. */
export class PlcOperationError extends Error {
  override name = 'PlcOperationError';
}

/** The PLC directory refused a request (a submitted operation, usually) or answered unexpectedly. */
export class PlcRequestError extends Error {
  override name = 'PlcRequestError';

  constructor(
    /** HTTP status from the directory; 0 when no answer arrived. */
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
