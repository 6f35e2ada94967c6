import { generateKeypair, type Keypair } from '../crypto/index.ts';
import type { Database } from '../db/index.ts';
import { decodeSigningKey, encodeSigningKey } from '../repo/signing-keys.ts';

export interface ReservedKey {
  publicKeyDid: string;
  keypair: Keypair;
  did: string | null;
  createdAt: string;
}

interface Row {
  public_key_did: string;
  private_key: string;
  did: string | null;
  created_at: string;
}

const toReserved = (row: Row): ReservedKey => ({
  publicKeyDid: row.public_key_did,
  keypair: decodeSigningKey(row.private_key),
  did: row.did,
  createdAt: row.created_at,
});

/**
 * Signing keys made before their account exists (`reserveSigningKey`): an account moving here
 * puts the key's did:key in its DID document first, then creates the account, which takes the
 * key. Stored as account signing keys are (`<alg>:<hex>`).
 */
export class ReservedSigningKeys {
  constructor(private readonly db: Database) {}

  /**
   * A new ES256K key, or for a DID that already has one, that same key: a client that retries
   * must not end up with a DID document naming a key the server forgot.
   */
  async reserve(did?: string): Promise<string> {
    if (did !== undefined) {
      const existing = this.forDid(did);
      if (existing) return existing.publicKeyDid;
    }
    const keypair = await generateKeypair('ES256K');
    return this.db.transaction(() => {
      if (did !== undefined) {
        // Another request for the same DID may have finished while this key was generated.
        const raced = this.forDid(did);
        if (raced) return raced.publicKeyDid;
      }
      this.db
        .prepare('INSERT INTO reserved_signing_key (public_key_did, private_key, did, created_at) VALUES (?, ?, ?, ?)')
        .run(keypair.did(), encodeSigningKey(keypair), did ?? null, new Date().toISOString());
      return keypair.did();
    });
  }

  get(publicKeyDid: string): ReservedKey | undefined {
    const row = this.db.prepare('SELECT * FROM reserved_signing_key WHERE public_key_did = ?').get(publicKeyDid) as Row | undefined;
    return row && toReserved(row);
  }

  /** The key reserved for a DID (the oldest, should there be several). */
  forDid(did: string): ReservedKey | undefined {
    const row = this.db.prepare('SELECT * FROM reserved_signing_key WHERE did = ? ORDER BY created_at LIMIT 1').get(did) as Row | undefined;
    return row && toReserved(row);
  }

  /** Removes a key once an account has taken it. */
  delete(publicKeyDid: string): void {
    this.db.prepare('DELETE FROM reserved_signing_key WHERE public_key_did = ?').run(publicKeyDid);
  }
}
