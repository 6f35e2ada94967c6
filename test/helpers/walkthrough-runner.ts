// Runs a walkthrough's steps as a reader would, in one directory, and prints a JSON transcript.
// Started by test/first-five-minutes.test.ts; the steps' environment carries a guard (in NODE_OPTIONS)
// that keeps every Node.js process on loopback.
// Usage: walkthrough-runner.ts <plan.json>   (plan: { dir, steps, env, healthUrl, watchUntil, watchMs })
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadmeStep } from './readme-steps.ts';

interface Plan {
  dir: string;
  steps: ReadmeStep[];
  env: Record<string, string>;
  /** Polled after a `server` step until it answers. */
  healthUrl: string;
  /** A `watch` step runs until its output matches this (a regular expression), at most `watchMs`. */
  watchUntil: string;
  watchMs: number;
}

export interface TranscriptEntry {
  command: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8')) as Plan;
const transcript: TranscriptEntry[] = [];

function start(command: string): { child: ChildProcess; entry: TranscriptEntry; exited: Promise<void> } {
  const child = spawn('bash', ['-c', command], { cwd: plan.dir, env: plan.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const entry: TranscriptEntry = { command, code: null, stdout: '', stderr: '' };
  transcript.push(entry);
  child.stdout!.on('data', (chunk) => (entry.stdout += chunk));
  child.stderr!.on('data', (chunk) => (entry.stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((entry.code = code), resolve())));
  return { child, entry, exited };
}

/** Ends a step the way Ctrl-C would: SIGINT to its whole process group. */
async function interrupt(step: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
  if (step.child.exitCode !== null) return;
  process.kill(-step.child.pid!, 'SIGINT');
  const timer = setTimeout(() => process.kill(-step.child.pid!, 'SIGKILL'), 10_000);
  await step.exited;
  clearTimeout(timer);
}

async function waitFor(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

const servers: Array<{ child: ChildProcess; exited: Promise<void> }> = [];
let failed: string | undefined;
try {
  for (const step of plan.steps) {
    if (step.kind === 'install') continue; // the test prepared the checkout and its node_modules
    if (step.kind === 'file') {
      writeFileSync(join(plan.dir, step.name), step.content);
      continue;
    }
    for (const command of step.commands) {
      const running = start(command);
      if (step.kind === 'server') {
        servers.push(running);
        const up = await waitFor(async () => {
          if (running.child.exitCode !== null) throw new Error(`"${command}" exited with ${running.child.exitCode}`);
          return fetch(plan.healthUrl).then((r) => r.ok, () => false);
        }, 120_000);
        if (!up) throw new Error(`"${command}" did not answer ${plan.healthUrl} within 120 s`);
      } else if (step.kind === 'watch') {
        const pattern = new RegExp(plan.watchUntil, 'm');
        await waitFor(() => pattern.test(running.entry.stdout) || running.child.exitCode !== null, plan.watchMs);
        await interrupt(running);
      } else {
        await running.exited;
        if (running.entry.code !== 0) throw new Error(`"${command}" exited with ${running.entry.code}`);
      }
    }
  }
} catch (err) {
  failed = (err as Error).message;
} finally {
  for (const server of servers) await interrupt(server);
}
process.stdout.write(JSON.stringify({ failed, transcript }));
