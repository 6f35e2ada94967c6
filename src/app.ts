import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig, type Config } from './config.ts';
import { BootError, createContext, type NetworkEnvironment } from './context.ts';
import { PRIVATE_DIR_MODE } from './data-directory.ts';
import { DatabaseInUseError, lockDatabase, type ServerLock } from './db/server-lock.ts';
import { createLogger, type Logger } from './logger.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { startServer, type RunningServer } from './server.ts';

/** Boots a PDS from a config: secrets, storage, method table, HTTP server. */
export async function startPds(config: Config, log: Logger = createLogger(config.log.level), network: NetworkEnvironment = {}): Promise<RunningServer> {
  // First of all: a second server on the same database stops here, before it writes secrets or migrates.
  const lock = takeServerLock(config);
  let ctx;
  try {
    const { secrets, file, generated } = loadOrCreateSecrets(config);
    if (generated.length > 0) log.info({ file, generated }, 'generated secrets and stored them in the data directory');
    if (generated.includes('adminPassword')) {
      log.info({ file }, `the admin password is in ${file} (key "adminPassword")`);
    }
    ctx = await createContext(config, secrets, log, network, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
  try {
    return await startServer(ctx);
  } catch (err) {
    await ctx.close();
    throw err;
  }
}

function takeServerLock(config: Config): ServerLock {
  mkdirSync(dirname(config.storage.dbFile), { recursive: true, mode: PRIVATE_DIR_MODE });
  try {
    return lockDatabase(config.storage.dbFile);
  } catch (err) {
    if (err instanceof DatabaseInUseError) throw new BootError(err.message);
    throw err;
  }
}

export { loadConfig };
