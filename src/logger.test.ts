import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

type Line = { msg: string; at: number } & Record<string, unknown>;

/** Runs `body` in a child process with createLogger/requestLogger in scope; its stdout lines, each with the ms since start at which it arrived. */
function runChild(body: string): Promise<Line[]> {
  const script = `import { createLogger, requestLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).href)};\n${body}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const started = performance.now();
    const lines: Line[] = [];
    let rest = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop()!;
      for (const line of parts) lines.push({ ...(JSON.parse(line) as { msg: string }), at: performance.now() - started });
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(lines) : reject(new Error(`child exited ${code}`))));
  });
}

describe('logger on standard output', () => {
  it('writes ordinary lines at once, with the request lines waiting before them, and lone request lines within 250 ms', async () => {
    const lines = await runChild(`
      const log = createLogger('info');
      const requests = requestLogger(log);
      requests.info({ n: 1 }, 'request 1');
      log.info('ordinary');
      setTimeout(() => requests.info({ n: 2 }, 'request 2'), 100);
      setTimeout(() => log.info('after 1 s'), 1000);
    `);
    assert.deepEqual(lines.map((l) => l.msg), ['request 1', 'ordinary', 'request 2', 'after 1 s']);
    const [, , lone, late] = lines;
    // the lone request line went out on its timer, not with the line logged 900 ms after it
    assert.ok(lone.at < late.at - 400, JSON.stringify(lines));
  });

  it('writes a full batch without waiting', async () => {
    const lines = await runChild(`
      const log = createLogger('info');
      const requests = requestLogger(log);
      for (let i = 0; i < 200; i++) requests.info({ i, padding: 'x'.repeat(40) }, 'request');
      log.info('ordinary');
      setTimeout(() => {}, 1000);
    `);
    assert.equal(lines.filter((l) => l.msg === 'request').length, 200);
    // the same line pino writes: level, ISO time, the base bindings, the fields, the message
    const first = lines.find((l) => l.msg === 'request')!;
    assert.deepEqual(Object.keys(first).filter((k) => k !== 'at'), ['level', 'time', 'service', 'i', 'padding', 'msg']);
    assert.equal(first.level, 30);
    assert.equal(first.service, 'squall');
    assert.ok(!Number.isNaN(Date.parse(first.time as string)));
    // 200 lines of ~130 bytes fill three 8 KB batches at once; only the remainder waits for the timer
    assert.ok(lines.findIndex((l) => l.msg === 'request') < lines.findIndex((l) => l.msg === 'ordinary'), JSON.stringify(lines.map((l) => l.msg)));
  });

  it('writes the request lines still waiting when the process exits', async () => {
    const lines = await runChild(`
      const log = createLogger('info');
      requestLogger(log).info({}, 'request before exit');
      log.info('ordinary');
      process.exit(0);
    `);
    assert.deepEqual(lines.map((l) => l.msg).sort(), ['ordinary', 'request before exit']);
  });

  it('with a destination of its own, the request logger writes there at once', async () => {
    const { createLogger, requestLogger } = await import('./logger.ts');
    const chunks: string[] = [];
    const log = createLogger('info', { write: (s: string) => chunks.push(s) } as unknown as NodeJS.WritableStream);
    requestLogger(log).info({ status: 200 }, 'request');
    assert.equal(chunks.length, 1);
  });

  it('redacts credentials in every line but the request log, whose fields are fixed', async () => {
    const { createLogger, requestLogger } = await import('./logger.ts');
    const chunks: string[] = [];
    const log = createLogger('info', { write: (s: string) => chunks.push(s) } as unknown as NodeJS.WritableStream);
    requestLogger(log).info({ method: 'GET', nsid: 'com.atproto.repo.getRecord', status: 200, ms: 0.5 }, 'request');
    log.info({ password: 'hunter2', req: { headers: { authorization: 'Bearer abc' } }, body: { accessJwt: 'jwt' } }, 'other');
    log.child({ component: 'x' }).info({ token: 'secret-token' }, 'child');
    const [request, other, child] = chunks.map((c) => JSON.parse(c));
    assert.deepEqual([request.method, request.nsid, request.status, request.ms], ['GET', 'com.atproto.repo.getRecord', 200, 0.5]);
    assert.equal(other.password, '[redacted]');
    assert.equal(other.req.headers.authorization, '[redacted]');
    assert.equal(other.body.accessJwt, '[redacted]');
    assert.equal(child.token, '[redacted]');
    assert.ok(!chunks.join('').includes('hunter2') && !chunks.join('').includes('secret-token'));
  });
});
