import { verifyDataDir } from '../../backup/integrity.ts';
import { progressLine } from '../progress.ts';
import type { AdminCommand } from './admin-command.ts';
import { dataTarget, printIntegrity, serverConfig, verifyProgress, whileNoServerRuns } from './data-tools.ts';

export const verify: AdminCommand = {
  name: 'verify',
  synopsis: '[--data DIR]',
  summary: "verify a stopped server's data directory (repos, record index, blobs, sequencer log)",
  options: { data: { type: 'string' } },
  async run(input) {
    const target = dataTarget(input, serverConfig(input));
    const line = progressLine(input.io.err, process.stderr.isTTY === true);
    let report;
    try {
      report = await whileNoServerRuns(target.dbFile, 'verify', () => verifyDataDir({ dbFile: target.dbFile, blobDir: target.blobDir, onProgress: verifyProgress(line) }));
    } finally {
      line.done();
    }
    return printIntegrity(input.io.out, report);
  },
};
