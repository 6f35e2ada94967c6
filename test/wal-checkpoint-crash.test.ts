import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';

const dir = mkdtempSync(join(tmpdir(), 'squall-checkpoint-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the writer until it has acknowledged `acks` more rows and its worker and event loop have
 * each checkpointed, then kills it with SIGKILL `delayMs` later (mid-copy as often as not: at
 * these thresholds a checkpoint runs every dozen transactions). Returns the ids it acknowledged.
 */
async function runAndKill(file: string, acks: number, delayMs: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/checkpoint-writer.ts', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: number[] = [];
  const seen = new Set<string>();
  let rest = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`the writer exited (${code ?? signal}) early`)));
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const [what, value] = line.split(' ');
        if (what === 'ack') acked.push(Number(value));
        else if (what === 'checkpoint') seen.add(value);
      }
      if (acked.length >= acks && seen.has('worker') && seen.has('event-loop')) resolve();
    });
  });
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  await exited;
  return acked;
}

// SIGKILL leaves the operating system's page cache in place, so this checks what the checkpoints
// do (copy, restart the WAL, each at any moment cut off), not the fsyncs under them: the ordering
// of those is SQLite's, unchanged (see WalCheckpointer).
describe('WAL checkpoints in a worker, cut off by SIGKILL', () => {
  it('keeps every acknowledged row and a sound database', async () => {
    const file = join(dir, 'crash.sqlite');
    const acknowledged: number[] = [];
    for (const delayMs of [0, 3, 7, 15]) acknowledged.push(...(await runAndKill(file, 300, delayMs)));
    const db = new BetterSqlite3(file);
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const present = new Set((db.prepare('SELECT id FROM t').pluck().all() as number[]));
      const lost = acknowledged.filter((id) => !present.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged rows are gone`);
    } finally {
      db.close();
    }
  });
});
