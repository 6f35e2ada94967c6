// Preloaded into a Squall child process by test/idle-footprint.test.ts: on SIGUSR2 it writes the
// builtin modules Node has loaded and the URLs of every other module loaded so far, as JSON, to
// the file named by SQUALL_TEST_MODULES_FILE. It writes a temporary file and renames it, so the
// test, which polls for the file, never reads it half written.
import { renameSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const loaded = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on('SIGUSR2', () => {
  const file = process.env.SQUALL_TEST_MODULES_FILE;
  writeFileSync(`${file}.tmp`, JSON.stringify({ builtins: process.moduleLoadList, modules: loaded }));
  renameSync(`${file}.tmp`, file);
});
