// did:plc operation shapes (did-method-plc spec). The signed and unsigned forms are distinct types
// on purpose: the signature covers the DAG-CBOR of the operation *without* a `sig` key at all.

export interface PlcService {
  type: string;
  endpoint: string;
}

/** The identity fields every regular operation carries in full (no diffs in PLC). */
export interface PlcIdentityFields {
  /** did:keys allowed to sign the next operation, most powerful first (1 to 5). */
  rotationKeys: string[];
  /** Key name (no `#`) to did:key; `atproto` is the repository signing key. */
  verificationMethods: Record<string, string>;
  /** URIs; the first `at://` one is the handle. */
  alsoKnownAs: string[];
  /** Service name (no `#`) to endpoint; `atproto_pds` is the PDS. */
  services: Record<string, PlcService>;
}

export interface UnsignedPlcOperation extends PlcIdentityFields {
  type: 'plc_operation';
  /** CID (base32 string, not a link) of the previous operation; null for the genesis operation. */
  prev: string | null;
}

export interface PlcOperation extends UnsignedPlcOperation {
  /** base64url (no padding) of the 64-byte compact signature. */
  sig: string;
}

export interface UnsignedPlcTombstone {
  type: 'plc_tombstone';
  prev: string;
}

export interface PlcTombstone extends UnsignedPlcTombstone {
  sig: string;
}

/** The deprecated genesis format. Still in the directory, and some DIDs hash from it forever. */
export interface LegacyPlcCreateOperation {
  type: 'create';
  signingKey: string;
  recoveryKey: string;
  handle: string;
  service: string;
  prev: null;
  sig: string;
}

export type AnyPlcOperation = PlcOperation | PlcTombstone | LegacyPlcCreateOperation;

/** The current state of a DID as PLC keeps it (the `/:did/data` answer). */
export interface PlcData extends PlcIdentityFields {
  did: string;
}

/** One entry of `/:did/log/audit`. */
export interface PlcAuditEntry {
  did: string;
  operation: AnyPlcOperation;
  cid: string;
  nullified: boolean;
  createdAt: string;
}

/** What signs PLC operations: a rotation key. `Keypair` from src/crypto satisfies it. */
export interface PlcSigner {
  did(): string;
  sign(msg: Uint8Array): Promise<Uint8Array>;
}
