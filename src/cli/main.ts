// The `squall` command line: `squall serve`, `squall admin <command>`, `squall version`.
// bin/squall.mjs runs it compiled (dist/cli/main.js) or from source; `npm start` and
// `npm run admin -- <command>` run it from source.
import { runCli } from './run.ts';

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
});
// Pipes and files are written synchronously on POSIX, so nothing printed is lost by exiting here.
process.exit(code);
