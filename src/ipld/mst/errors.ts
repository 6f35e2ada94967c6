/**
 * Errors of the Merkle Search Tree. They describe what is wrong with a tree or a key and know
 * nothing of HTTP; the repository and API layers decide what each one means to a client.
 */
export class MstError extends Error {
  override name = 'MstError';
}

/** A block the tree needs is not in the block source (a partial tree, or a corrupt store). */
export class MissingBlockError extends MstError {
  override name = 'MissingBlockError';
  constructor(readonly cid: string, what = 'MST node') {
    super(`missing block ${cid} (${what})`);
  }
}

/** A node's bytes are not the one canonical encoding of a valid MST node, or break a tree rule. */
export class MalformedNodeError extends MstError {
  override name = 'MalformedNodeError';
  constructor(message: string, readonly cid?: string) {
    super(cid ? `malformed MST node ${cid}: ${message}` : `malformed MST node: ${message}`);
  }
}

/** A key the MST cannot hold: empty, too long, or outside the repo path alphabet. */
export class InvalidMstKeyError extends MstError {
  override name = 'InvalidMstKeyError';
  constructor(readonly key: string, reason: string) {
    super(`invalid MST key ${JSON.stringify(key.length > 100 ? key.slice(0, 100) + '…' : key)}: ${reason}`);
  }
}

/** `add` on a key the tree already holds. */
export class KeyExistsError extends MstError {
  override name = 'KeyExistsError';
  constructor(readonly key: string) {
    super(`key already exists: ${key}`);
  }
}

/** `update` or `delete` of a key the tree does not hold. */
export class KeyNotFoundError extends MstError {
  override name = 'KeyNotFoundError';
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}
