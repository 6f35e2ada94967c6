// Where the built-in PLC directory keeps its operations. An interface an async database could
// implement; the SQLite one below is what the playground uses.
import type { Database } from '../../db/index.ts';
import type { AnyPlcOperation } from '../plc-types.ts';

export interface StoredPlcOperation {
  did: string;
  cid: string;
  operation: AnyPlcOperation;
  nullified: boolean;
  createdAt: Date;
}

export interface PlcAppend {
  did: string;
  cid: string;
  operation: AnyPlcOperation;
  createdAt: Date;
  /** CIDs of the valid operations this one forks away (a recovery). */
  nullify: string[];
  /** The latest valid operation's CID when the append was validated (null for a new DID). */
  expectedHead: string | null;
}

/** Another operation for the DID was accepted between validation and append. */
export class PlcHeadMovedError extends Error {
  override name = 'PlcHeadMovedError';
}

export interface PlcOperationStore {
  /** Every operation of the DID in arrival order, nullified ones included. */
  operations(did: string): Promise<StoredPlcOperation[]>;
  /**
   * Appends in one transaction, nullifying `nullify`, if the DID's head is still `expectedHead`;
   * else throws `PlcHeadMovedError`.
   */
  append(entry: PlcAppend): Promise<void>;
  /** Operations created after `after` (all when undefined), in arrival order: the `/export` feed. */
  exportAfter(after: Date | undefined, limit: number): Promise<StoredPlcOperation[]>;
}

interface Row {
  seq: number;
  did: string;
  cid: string;
  operation: string;
  nullified: number;
  created_at: string;
}

const fromRow = (row: Row): StoredPlcOperation => ({
  did: row.did,
  cid: row.cid,
  operation: JSON.parse(row.operation) as AnyPlcOperation,
  nullified: row.nullified === 1,
  createdAt: new Date(row.created_at),
});

export class SqlitePlcOperationStore implements PlcOperationStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async operations(did: string): Promise<StoredPlcOperation[]> {
    const rows = this.#db.prepare('SELECT * FROM plc_operation WHERE did = ? ORDER BY seq').all(did) as Row[];
    return rows.map(fromRow);
  }

  async append(entry: PlcAppend): Promise<void> {
    this.#db.transaction(() => {
      const head = this.#db.prepare('SELECT cid FROM plc_operation WHERE did = ? AND nullified = 0 ORDER BY seq DESC LIMIT 1').get(entry.did) as
        | { cid: string }
        | undefined;
      if ((head?.cid ?? null) !== entry.expectedHead) throw new PlcHeadMovedError(`another operation for ${entry.did} was accepted meanwhile`);
      const nullify = this.#db.prepare('UPDATE plc_operation SET nullified = 1 WHERE did = ? AND cid = ?');
      for (const cid of entry.nullify) nullify.run(entry.did, cid);
      this.#db
        .prepare('INSERT INTO plc_operation (did, cid, operation, nullified, created_at) VALUES (?, ?, ?, 0, ?)')
        .run(entry.did, entry.cid, JSON.stringify(entry.operation), entry.createdAt.toISOString());
    });
  }

  async exportAfter(after: Date | undefined, limit: number): Promise<StoredPlcOperation[]> {
    const since = after?.toISOString() ?? '';
    const rows = this.#db.prepare('SELECT * FROM plc_operation WHERE created_at > ? ORDER BY seq LIMIT ?').all(since, limit) as Row[];
    return rows.map(fromRow);
  }
}
