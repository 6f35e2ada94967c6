import type { XrpcError } from '../xrpc/index.ts';

type Mapper = (err: unknown) => XrpcError | undefined;

const mappers: Mapper[] = [];

/** Domain modules register how their errors read over XRPC, once, here in the API layer. */
export function registerErrorMapper(mapper: Mapper): void {
  mappers.push(mapper);
}

export function mapDomainError(err: unknown): XrpcError | undefined {
  for (const mapper of mappers) {
    const mapped = mapper(err);
    if (mapped) return mapped;
  }
  return undefined;
}
