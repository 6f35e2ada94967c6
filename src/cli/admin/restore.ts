import { resolve } from 'node:path';
import { BackupFormatError } from '../../backup/manifest.ts';
import { restoreBackup, RestoreRefusedError } from '../../backup/restore.ts';
import { CliError, requireArgs } from '../command.ts';
import { formatBytes, progressLine } from '../progress.ts';
import type { AdminCommand } from './admin-command.ts';
import { dataTarget, printIntegrity, serverConfig, verifyProgress } from './data-tools.ts';

export const restore: AdminCommand = {
  name: 'restore',
  synopsis: '<backup> [--data DIR]',
  summary: 'restore a backup into an empty data directory, then verify it',
  help: `DIR defaults to PDS_DATA_DIRECTORY; it must be empty (a live data directory is refused).
The manifest and every file's checksum are checked, then every repo's signed commit and tree,
the record index, blob references and files, and the sequencer log. Exit 1 on any mismatch.`,
  options: { data: { type: 'string' } },
  async run(input) {
    requireArgs(input, 1);
    const { io } = input;
    const backupDir = resolve(io.cwd, input.args[0]);
    const target = dataTarget(input, serverConfig(input));
    const line = progressLine(io.err, process.stderr.isTTY === true);
    let result;
    try {
      result = await restoreBackup({
        backup: backupDir,
        target,
        onProgress: (p) => line.update(`restoring: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}`),
        onVerifyProgress: verifyProgress(line),
      });
    } catch (err) {
      if (err instanceof RestoreRefusedError || err instanceof BackupFormatError) throw new CliError(`refused: ${err.message}`);
      throw err;
    } finally {
      line.done();
    }
    const m = result.manifest;
    io.out(`restored ${result.files} files (${formatBytes(result.bytes)}) from ${backupDir} (taken ${m.snapshotAt} on ${m.hostname}) into ${target.dataDir}\n`);
    if (result.checksumProblems.length > 0) {
      for (const problem of result.checksumProblems) io.out(`✗ ${problem}\n`);
      io.out(`restore FAILED: ${result.checksumProblems.length} files do not match the backup's checksums; ${target.dataDir} is incomplete (delete it)\n`);
      return 1;
    }
    return printIntegrity(io.out, result.report!);
  },
};
