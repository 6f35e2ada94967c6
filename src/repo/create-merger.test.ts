import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateMerger, MERGE_MAX_BYTES, MERGE_MAX_WRITES, type MergeHost } from './create-merger.ts';
import type { PreparedWrite } from './prepare-write.ts';

// The merger's decisions, against a host that records what it is asked to commit. The write
// path it serves (RepoService) is tested end to end in test/repo-write-chain.test.ts.

function create(rkey: string, size = 10): PreparedWrite {
  return { action: 'create', collection: 'app.bsky.feed.post', rkey, record: {}, bytes: new Uint8Array(size), validationStatus: 'valid', blobs: [] };
}

interface Commit {
  did: string;
  rkeys: string[];
}

/** A write path whose fsync the test ends; `fail` decides which commits throw, before or after their transaction. */
class Host implements MergeHost<string> {
  busy = true;
  queued = true;
  commits: Commit[] = [];
  #idle: Array<() => void> = [];
  fail: (rkeys: string[]) => 'before' | 'after' | undefined = () => undefined;

  waits(): boolean {
    return this.busy && this.queued;
  }

  idle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.#idle.push(resolve)) : Promise.resolve();
  }

  async commit(did: string, writes: PreparedWrite[], committed: () => void): Promise<string> {
    const rkeys = writes.map((w) => w.rkey);
    const failure = this.fail(rkeys);
    if (failure === 'before') throw new Error(`RecordExists: ${rkeys.join(',')}`);
    this.commits.push({ did, rkeys });
    committed();
    if (failure === 'after') throw new Error('fsync failed');
    return `commit ${this.commits.length}: ${rkeys.join(',')}`;
  }

  /** The fsync ends. */
  end(): void {
    this.busy = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

describe('merging creates into one commit', () => {
  it('commits alone what arrives when no commit of the repo waits for a running fsync', () => {
    const host = new Host();
    const merger = new CreateMerger(host);
    host.busy = false;
    assert.equal(merger.join('did:a', [create('1')]), undefined, 'no fsync running');
    host.busy = true;
    host.queued = false;
    assert.equal(merger.join('did:a', [create('1')]), undefined, 'the repo has no commit waiting');
    assert.equal(merger.join('did:a', []), undefined, 'nothing to write');
    assert.deepEqual(merger.stats, { commits: 0, calls: 0, fallbacks: 0, waiting: 0 });
  });

  it('makes one commit of the calls that arrive during the fsync, in their order, and answers each with it', async () => {
    const host = new Host();
    const merger = new CreateMerger(host);
    const answers = [merger.join('did:a', [create('1')]), merger.join('did:a', [create('2'), create('3')]), merger.join('did:a', [create('4')])];
    const other = merger.join('did:b', [create('9')]);
    assert.ok(answers.every((a) => a !== undefined) && other !== undefined);
    assert.equal(merger.stats.waiting, 4);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(host.commits, [], 'nothing is committed before the fsync ends');
    host.end();
    assert.deepEqual(await Promise.all(answers), Array(3).fill('commit 1: 1,2,3,4'));
    assert.equal(await other, 'commit 2: 9', 'a call alone in its batch commits alone');
    assert.deepEqual(host.commits, [{ did: 'did:a', rkeys: ['1', '2', '3', '4'] }, { did: 'did:b', rkeys: ['9'] }]);
    assert.deepEqual(merger.stats, { commits: 1, calls: 3, fallbacks: 0, waiting: 0 });
    host.busy = true;
    assert.notEqual(merger.join('did:a', [create('5')]), undefined, 'the next fsync opens a new batch');
  });

  it(`holds at most ${MERGE_MAX_WRITES} writes and ${MERGE_MAX_BYTES} bytes of records in one commit`, async () => {
    const host = new Host();
    const merger = new CreateMerger(host);
    const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => create(`${prefix}${i}`));
    assert.equal(merger.join('did:a', many(MERGE_MAX_WRITES + 1, 'x')), undefined, 'too many writes for one commit');
    assert.equal(merger.join('did:a', [create('big', MERGE_MAX_BYTES + 1)]), undefined, 'too many bytes for one commit');
    const first = merger.join('did:a', many(MERGE_MAX_WRITES - 1, 'a'));
    const second = merger.join('did:a', many(1, 'b'));
    assert.equal(merger.join('did:a', many(1, 'c')), undefined, 'the batch is full');
    const b = merger.join('did:b', [create('half', MERGE_MAX_BYTES / 2)]);
    assert.notEqual(merger.join('did:b', [create('half2', MERGE_MAX_BYTES / 2)]), undefined);
    assert.equal(merger.join('did:b', [create('one more byte', 1)]), undefined, 'the batch holds its bytes');
    host.end();
    await Promise.all([first, second, b]);
    assert.equal(host.commits[0].rkeys.length, MERGE_MAX_WRITES);
  });

  it('commits each call again alone when the merged commit fails before it commits, so each gets its own answer', async () => {
    const host = new Host();
    const merger = new CreateMerger(host);
    // two calls create the same key: together they fail, alone the second one does
    const created = new Set<string>();
    host.fail = (rkeys) => {
      if (new Set(rkeys).size < rkeys.length || rkeys.some((k) => created.has(k))) return 'before';
      for (const k of rkeys) created.add(k);
      return undefined;
    };
    const answers = [merger.join('did:a', [create('same')]), merger.join('did:a', [create('other')]), merger.join('did:a', [create('same')])];
    host.end();
    const outcomes = await Promise.allSettled(answers);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.match(String((outcomes[2] as PromiseRejectedResult).reason), /RecordExists: same/);
    assert.deepEqual(host.commits.map((c) => c.rkeys), [['same'], ['other']]);
    assert.deepEqual(merger.stats, { commits: 0, calls: 0, fallbacks: 1, waiting: 0 });
  });

  it('answers every call with the failure of a merged commit that failed after its transaction committed', async () => {
    const host = new Host();
    const merger = new CreateMerger(host);
    host.fail = () => 'after';
    const answers = [merger.join('did:a', [create('1')]), merger.join('did:a', [create('2')])];
    host.end();
    const outcomes = await Promise.allSettled(answers);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
    assert.equal(host.commits.length, 1, 'not committed a second time');
    assert.equal(merger.stats.fallbacks, 0);
  });
});
