import { startPds } from '../app.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { BootError } from '../context.ts';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, pkg.version);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`squall: invalid configuration: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  let server;
  try {
    server = await startPds(config);
  } catch (err) {
    const message = err instanceof BootError || (err as NodeJS.ErrnoException).code ? (err as Error).message : String(err);
    process.stderr.write(`squall: could not start: ${message}\n`);
    process.exit(1);
  }
  const stop = (signal: string) => {
    server.ctx.log.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.ctx.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main();
