// Compares two exports of one repo record by record, with bounded memory: each CAR is staged in a
// scratch SQLite file (as an import stages it) and its tree walked in key order, and the two
// walks are merged like sorted lists.
import { readCar } from '../ipld/car.ts';
import { cidToString, parseCid } from '../ipld/cid.ts';
import { decodeCommit } from '../repo/commit.ts';
import { ImportStaging } from '../repo/import/staging.ts';
import { verifiedTree, verifyCommitBlock } from '../repo/verify.ts';

export interface RepoComparison {
  /** Records on both sides with the same CID. */
  same: number;
  /** Paths (a few) whose record is missing here, differs, or is here only. */
  missing: string[];
  different: string[];
  extra: string[];
  missingCount: number;
  differentCount: number;
  extraCount: number;
}

const SAMPLE = 5;

/**
 * Records of `theirs` (the old PDS's export) against `ours` (the new PDS's). `ours` must be signed
 * by `key` (the key the DID document names) for `did`, unless its head is the very commit the old
 * PDS serves: the official PDS keeps serving the imported commit, signed by the old key, until the
 * account's next write. `theirs` is only read.
 */
export async function compareRepos(
  theirs: AsyncIterable<Uint8Array>,
  ours: AsyncIterable<Uint8Array>,
  expected: { did: string; key: string; scratchDir: string },
): Promise<RepoComparison> {
  const a = await stage(theirs, expected.scratchDir);
  try {
    const b = await stage(ours, expected.scratchDir);
    try {
      if (b.root !== a.root) await verifyCommitBlock(b.staging.get(b.root), parseCid(b.root), { did: expected.did, didKey: expected.key });
      return merge(records(a), records(b));
    } finally {
      b.staging.close();
    }
  } finally {
    a.staging.close();
  }
}

async function stage(car: AsyncIterable<Uint8Array>, dir: string): Promise<{ staging: ImportStaging; root: string }> {
  const staging = new ImportStaging(dir);
  try {
    const reader = await readCar(car);
    if (reader.roots.length !== 1) throw new Error(`a repo export must have one root, this one has ${reader.roots.length}`);
    let batch: Array<[string, Uint8Array]> = [];
    const flush = () => {
      const blocks = batch;
      staging.batch(() => staging.putBlocks(blocks));
      batch = [];
    };
    for await (const block of reader.blocks) {
      batch.push([cidToString(block.cid), block.bytes]);
      if (batch.length >= 2000) flush();
    }
    flush();
    staging.indexBlocks();
    return { staging, root: cidToString(reader.roots[0]) };
  } catch (err) {
    staging.close();
    throw err;
  }
}

function* records(side: { staging: ImportStaging; root: string }): Generator<[string, string]> {
  const commit = side.staging.get(side.root);
  if (!commit) throw new Error(`the export's commit ${side.root} is not in it`);
  for (const block of verifiedTree(side.staging, decodeCommit(commit).data)) {
    if (block.kind === 'record') yield [block.path, block.cid];
  }
}

function merge(theirs: Iterator<[string, string]>, ours: Iterator<[string, string]>): RepoComparison {
  const out: RepoComparison = { same: 0, missing: [], different: [], extra: [], missingCount: 0, differentCount: 0, extraCount: 0 };
  const note = (list: string[], path: string) => list.length < SAMPLE && list.push(path);
  let a = theirs.next();
  let b = ours.next();
  while (!a.done || !b.done) {
    if (b.done || (!a.done && a.value[0] < b.value[0])) {
      out.missingCount++;
      note(out.missing, a.value![0]);
      a = theirs.next();
    } else if (a.done || b.value[0] < a.value[0]) {
      out.extraCount++;
      note(out.extra, b.value[0]);
      b = ours.next();
    } else {
      if (a.value[1] === b.value[1]) out.same++;
      else {
        out.differentCount++;
        note(out.different, a.value[0]);
      }
      a = theirs.next();
      b = ours.next();
    }
  }
  return out;
}
