import { CliError, dispatch, type CliIo } from './command.ts';
import { commands } from './commands.ts';

/** Runs one command line; resolves to the exit code. Errors the user can act on become one line. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(commands, argv, { io, sharedOptions: {}, prefix: 'squall ', extra: () => ({}) });
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.err(`${err.message}\n`);
    return err.exitCode;
  }
}
