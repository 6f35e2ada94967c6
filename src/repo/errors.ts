/**
 * Errors of the repository engine (commits, write batches, verification). Plain domain errors:
 * the API layer maps them to XRPC errors, the sync layer to rejected events.
 */
export class RepoError extends Error {
  override name = 'RepoError';
}

/** A create on a path that already holds a record. */
export class RecordExistsError extends RepoError {
  override name = 'RecordExistsError';
  constructor(readonly path: string) {
    super(`record already exists: ${path}`);
  }
}

/** An update or delete of a path that holds no record. */
export class RecordNotFoundError extends RepoError {
  override name = 'RecordNotFoundError';
  constructor(readonly path: string) {
    super(`record not found: ${path}`);
  }
}

/** A write the engine cannot apply as given (bad collection or key, missing record value). */
export class InvalidWriteError extends RepoError {
  override name = 'InvalidWriteError';
}

/** A commit block that is not a well-formed version 3 (or 2) commit object. */
export class InvalidCommitError extends RepoError {
  override name = 'InvalidCommitError';
}

/** A commit whose signature does not verify against the expected key. */
export class BadCommitSignatureError extends RepoError {
  override name = 'BadCommitSignatureError';
}

/** A commit that belongs to another DID than the one expected. */
export class CommitDidMismatchError extends RepoError {
  override name = 'CommitDidMismatchError';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`commit is for ${actual}, expected ${expected}`);
  }
}

/** A repo or commit proof that fails a structural check: missing blocks, a bad tree, bad records. */
export class RepoVerificationError extends RepoError {
  override name = 'RepoVerificationError';
}

/** Ops, blocks and `prevData` of a commit that do not agree: inverting the ops does not reach `prevData`. */
export class InvalidCommitProofError extends RepoError {
  override name = 'InvalidCommitProofError';
}
