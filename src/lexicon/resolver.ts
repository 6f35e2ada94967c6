// Lexicon resolution over the network (Lexicon spec, "Lexicon Publication and Resolution"): the
// NSID's authority domain, reversed, names a DNS TXT record `_lexicon.<domain>` holding
// `did=<did>`; that account publishes the schema as a `com.atproto.lexicon.schema` record keyed
// by the NSID. The record is fetched with its proof (`com.atproto.sync.getRecord`) through the
// guarded fetch and checked against the account's signing key, so a schema is only what its
// namespace's owner signed.
import type { TxtResolver } from '../identity/handle-resolver.ts';
import type { DidResolver } from '../identity/did-resolver.ts';
import { getAtprotoSigningKey, getPdsEndpoint } from '../identity/did-document.ts';
import { SafeFetchError, type SafeFetch } from '../net/safe-fetch.ts';
import { verifyRecordProof } from '../repo/verify.ts';
import { isValidDid, isValidNsid } from '../syntax/index.ts';

export const LEXICON_SCHEMA_COLLECTION = 'com.atproto.lexicon.schema';

export class LexiconResolutionError extends Error {
  override name = 'LexiconResolutionError';
}

export interface LexiconResolverDeps {
  resolveTxt: TxtResolver;
  dids: Pick<DidResolver, 'resolveDocument'>;
  fetch: SafeFetch;
}

const MAX_PROOF_BYTES = 512 * 1024;

export class LexiconResolver {
  constructor(private readonly deps: LexiconResolverDeps) {}

  /** The schema document an NSID names, as its authority published and signed it. */
  async resolve(nsid: string): Promise<Record<string, unknown>> {
    if (!isValidNsid(nsid)) throw new LexiconResolutionError(`"${nsid}" is not an NSID`);
    const did = await this.authorityDid(nsid);
    const doc = await this.deps.dids.resolveDocument(did).catch((err: unknown) => {
      throw new LexiconResolutionError(`could not resolve ${did}, the authority of ${nsid}: ${(err as Error).message}`);
    });
    const pds = getPdsEndpoint(doc);
    const key = getAtprotoSigningKey(doc);
    if (pds === undefined || key === undefined) throw new LexiconResolutionError(`${did}, the authority of ${nsid}, has no PDS or no signing key`);
    const url = `${pds}/xrpc/com.atproto.sync.getRecord?did=${encodeURIComponent(did)}&collection=${LEXICON_SCHEMA_COLLECTION}&rkey=${encodeURIComponent(nsid)}`;
    let res;
    try {
      res = await this.deps.fetch(url, { maxBytes: MAX_PROOF_BYTES, timeoutMs: 10_000 });
    } catch (err) {
      if (err instanceof SafeFetchError) throw new LexiconResolutionError(`could not fetch the schema of ${nsid}: ${err.message}`);
      throw err;
    }
    if (res.status !== 200) throw new LexiconResolutionError(`the schema of ${nsid} is not published (${pds} answered ${res.status})`);
    let record;
    try {
      record = await verifyRecordProof(res.body, { did, didKey: key }, `${LEXICON_SCHEMA_COLLECTION}/${nsid}`);
    } catch (err) {
      throw new LexiconResolutionError(`the schema of ${nsid} does not verify: ${(err as Error).message}`);
    }
    const value = record?.value as Record<string, unknown> | undefined;
    if (value === undefined) throw new LexiconResolutionError(`the schema of ${nsid} is not published`);
    if (value.id !== nsid || value.lexicon !== 1) throw new LexiconResolutionError(`the record published for ${nsid} is not its Lexicon schema`);
    return value;
  }

  async authorityDid(nsid: string): Promise<string> {
    const domain = nsid.split('.').slice(0, -1).reverse().join('.');
    let records: string[][];
    try {
      records = await this.deps.resolveTxt(`_lexicon.${domain}`);
    } catch (err) {
      throw new LexiconResolutionError(`no _lexicon.${domain} DNS record for ${nsid}: ${(err as Error).message}`);
    }
    const dids = records.map((chunks) => chunks.join('')).filter((v) => v.startsWith('did=')).map((v) => v.slice(4).trim());
    if (dids.length !== 1 || !isValidDid(dids[0])) throw new LexiconResolutionError(`_lexicon.${domain} must hold exactly one did=<did> record (authority of ${nsid})`);
    return dids[0];
  }
}
