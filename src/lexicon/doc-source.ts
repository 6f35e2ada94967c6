import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { validateLexiconDoc } from './doc.ts';
import { LexiconLoadError } from './errors.ts';
import type { LexiconDocument } from './types.ts';

/**
 * Where a LexiconSet's documents come from. `read` is called at most once per NSID, the first
 * time the set needs that document, and throws LexiconLoadError when the document is bad.
 */
export interface DocSource {
  readonly size: number;
  ids(): string[];
  has(nsid: string): boolean;
  read(nsid: string): LexiconDocument;
  /** Problems known before any document is read (two files naming one NSID). */
  readonly clashes: readonly string[];
}

/** Documents already in memory and checked (LexiconSet.fromDocs checks them up front). */
export class MemorySource implements DocSource {
  readonly clashes: readonly string[] = [];
  readonly #docs: Map<string, LexiconDocument>;

  constructor(docs: LexiconDocument[]) {
    this.#docs = new Map(docs.map((d) => [d.id, d]));
  }

  get size(): number {
    return this.#docs.size;
  }

  ids(): string[] {
    return [...this.#docs.keys()];
  }

  has(nsid: string): boolean {
    return this.#docs.has(nsid);
  }

  read(nsid: string): LexiconDocument {
    return this.#docs.get(nsid)!;
  }
}

/**
 * A folder of `*.json` documents laid out by NSID (`com/atproto/repo/getRecord.json`, as
 * scripts/refresh-lexicons.mjs writes them). Only the file names are listed up front: most of
 * the 400 vendored documents (app.bsky.*, chat.*, tools.*) are never needed by a running
 * server, and reading and checking them all at start costs ~8 MB of resident memory.
 */
export class DirectorySource implements DocSource {
  readonly #files = new Map<string, string>();
  readonly clashes: string[] = [];

  constructor(dir: string) {
    for (const file of listJsonFiles(dir)) {
      const nsid = relative(dir, file).slice(0, -'.json'.length).split(/[\\/]/).join('.');
      const other = this.#files.get(nsid);
      if (other === undefined) this.#files.set(nsid, file);
      else this.clashes.push(`${file}: names ${nsid}, as ${other} does`);
    }
  }

  get size(): number {
    return this.#files.size;
  }

  ids(): string[] {
    return [...this.#files.keys()];
  }

  has(nsid: string): boolean {
    return this.#files.has(nsid);
  }

  read(nsid: string): LexiconDocument {
    const file = this.#files.get(nsid)!;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new LexiconLoadError([`${file}: ${(err as Error).message}`]);
    }
    const result = validateLexiconDoc(doc);
    if (!result.success) throw new LexiconLoadError([`${nsid}: ${result.message}`]);
    if (result.value.id !== nsid) throw new LexiconLoadError([`${file}: holds ${result.value.id}, but its path names ${nsid}`]);
    return result.value;
  }
}

function listJsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listJsonFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.json')) out.push(full);
  }
  return out.sort();
}
