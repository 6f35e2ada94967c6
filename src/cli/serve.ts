import { startPds } from '../app.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { BootError } from '../context.ts';
import type { CliCommand } from './command.ts';
import { packageVersion } from './version.ts';

/** Exit code for a bad configuration (EX_CONFIG), so a supervisor can tell it from a crash. */
const EXIT_CONFIG = 78;
/** Exit code after an error nothing handled (EX_SOFTWARE: an internal software error). */
const EXIT_CRASH = 70;

export const serve: CliCommand = {
  name: 'serve',
  summary: 'run the PDS (configured by PDS_* environment variables, see the README)',
  help: 'Runs until SIGTERM or SIGINT, then stops accepting, finishes requests in flight and exits 0.',
  async run({ io }) {
    // Whatever the process creates is its user's alone (the database holds every signing key).
    process.umask(0o077);
    let config;
    try {
      config = loadConfig(io.env, packageVersion());
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      io.err(`squall: invalid configuration: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    let server;
    try {
      server = await startPds(config);
    } catch (err) {
      const message = err instanceof BootError || err instanceof ConfigError || (err as NodeJS.ErrnoException).code ? (err as Error).message : String(err);
      io.err(`squall: could not start: ${message}\n`);
      return 1;
    }
    const running = server;
    // A bug nothing caught (an exception, or a rejection Node turns into one) ends the process as
    // Node would, but says so in the structured log first; the exit hook flushes the log.
    // Acknowledged writes are on disk already: a supervisor's restart loses none.
    process.on('uncaughtException', (err, origin) => {
      running.ctx.log.fatal({ err, origin }, 'crashed: an error nothing handled; exiting (acknowledged writes are safe on disk: restart the server)');
      process.exit(EXIT_CRASH);
    });
    return new Promise<number>((resolve) => {
      const stop = (signal: string) => {
        running.ctx.log.info({ signal }, 'signal received');
        running.close().then(
          () => resolve(0),
          (err: unknown) => {
            running.ctx.log.error({ err }, 'error during shutdown');
            resolve(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  },
};
