// Errors of the IPLD layer. They describe what is wrong with the bytes or values;
// mapping them to protocol errors (InvalidRequest, 400) is the API layer's job.

/** A value cannot be encoded as DAG-CBOR, or bytes are not strict DAG-CBOR. */
export class CborError extends Error {
  override name = 'CborError';
}

/** A CID string or binary CID is malformed or outside what atproto repositories accept. */
export class CidError extends Error {
  override name = 'CidError';
}

/** A CAR stream is malformed, truncated, inconsistent with its CIDs, or over a limit. */
export class CarError extends Error {
  override name = 'CarError';
}

/** A JSON value is not valid atproto data (floats, bad `$link`/`$bytes`/blob shapes, bad `$type`). */
export class DataModelError extends Error {
  override name = 'DataModelError';
  /** JSON path of the offending value, like `embed.images[0].image.ref`. */
  readonly path: string;
  constructor(message: string, path: string) {
    super(path === '' ? message : `${message} at ${path}`);
    this.path = path;
  }
}
