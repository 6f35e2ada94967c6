import { loadConfig, type Config } from './config.ts';
import { createContext, type NetworkEnvironment } from './context.ts';
import { createLogger, type Logger } from './logger.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { startServer, type RunningServer } from './server.ts';

/** Boots a PDS from a config: secrets, storage, method table, HTTP server. */
export async function startPds(config: Config, log: Logger = createLogger(config.log.level), network: NetworkEnvironment = {}): Promise<RunningServer> {
  const { secrets, file, generated } = loadOrCreateSecrets(config);
  if (generated.length > 0) log.info({ file, generated }, 'generated secrets and stored them in the data directory');
  if (generated.includes('adminPassword')) {
    log.info({ file }, `the admin password is in ${file} (key "adminPassword")`);
  }
  const ctx = await createContext(config, secrets, log, network);
  try {
    return await startServer(ctx);
  } catch (err) {
    await ctx.close();
    throw err;
  }
}

export { loadConfig };
