// The IPLD layer: DAG-CBOR, CIDs, the atproto data model and CAR files. Pure: no storage, no HTTP.
export * from './cbor.ts';
export * from './cid.ts';
export * from './car.ts';
export * from './data-model.ts';
export { CarError, CborError, CidError, DataModelError } from './errors.ts';
