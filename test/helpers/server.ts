import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPds } from '../../src/app.ts';
import type { NetworkEnvironment } from '../../src/context.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import type { RunningServer } from '../../src/server.ts';

export interface TestServer {
  url: string;
  server: RunningServer;
  dataDir: string;
  adminPassword: string;
  close(): Promise<void>;
}

/**
 * A real Squall on 127.0.0.1, port 0, with its own temporary data directory and SQLite file.
 * Strict XRPC mode is on: every answer is checked against its Lexicon and undeclared error
 * names become 500s, so handler drift fails the test that hits it.
 */
export async function startTestServer(env: Record<string, string> = {}, opts: { logStream?: NodeJS.WritableStream; network?: NetworkEnvironment } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'squall-test-'));
  const adminPassword = env.PDS_ADMIN_PASSWORD ?? 'test-admin-password';
  // A real port, not 0: the PDS URL goes into DID documents, and clients follow it.
  const port = env.PDS_PORT ?? String(await freePort());
  const config = loadConfig({
    PDS_HOSTNAME: 'localhost',
    PDS_PORT: port,
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_DATA_DIRECTORY: dataDir,
    PDS_ADMIN_PASSWORD: adminPassword,
    PDS_JWT_SECRET: 'test-jwt-secret-0123456789abcdef',
    PDS_STRICT_XRPC: 'true',
    PDS_DID_PLC_URL: 'http://127.0.0.1:1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const server = await startPds(config, createLogger(opts.logStream ? 'info' : config.log.level, opts.logStream), opts.network);
  return {
    url: server.url,
    server,
    dataDir,
    adminPassword,
    async close() {
      await server.close(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export function basicAuth(password: string, user = 'admin'): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
