import { resolve } from 'node:path';
import { createBackup, type BackupProgress } from '../../backup/backup.ts';
import { requireArgs } from '../command.ts';
import { formatBytes, formatDuration, progressLine } from '../progress.ts';
import type { AdminCommand } from './admin-command.ts';
import { serverConfig } from './data-tools.ts';

export const backup: AdminCommand = {
  name: 'backup',
  synopsis: '<dir> [--full]',
  summary: "online, consistent backup of this server's data into <dir>/squall-<time>",
  help: `Runs on the server's machine with its environment, while the server serves: a database snapshot,
the blobs (hashed against their CIDs) and the secrets file, with a manifest and SHA256SUMS.
Blobs unchanged since the newest backup in <dir> are hard-linked; --full copies them all.
Exit 1 when the live data has problems (the backup holds everything else).`,
  options: { full: { type: 'boolean' } },
  async run(input) {
    requireArgs(input, 1);
    const config = serverConfig(input);
    const { io } = input;
    const line = progressLine(io.err, process.stderr.isTTY === true);
    const result = await createBackup({
      storage: config.storage,
      root: resolve(io.cwd, input.args[0]),
      incremental: input.options.full !== true,
      server: { version: config.version, hostname: config.service.hostname, serviceDid: config.service.did },
      secretsInEnvironment: Object.values(config.secrets).some((v) => v !== undefined),
      onProgress: (p: BackupProgress) =>
        line.update(
          `${p.phase}: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}${p.etaSeconds === undefined ? '' : `, ETA ${formatDuration(p.etaSeconds)}`}`,
        ),
    });
    line.done();
    const m = result.manifest;
    const seconds = (Date.parse(m.completedAt) - Date.parse(m.startedAt)) / 1000;
    io.out(
      `backup written: ${result.dir}\n` +
        `  database ${formatBytes(m.database.bytes)} (${m.database.accounts} accounts, ${m.database.repos} repos, seq ${m.database.latestSeq}), snapshot at ${m.snapshotAt}\n` +
        `  blobs ${m.blobs.files} (${formatBytes(m.blobs.bytes)}): ${m.blobs.copied} copied (${formatBytes(m.blobs.copiedBytes)}), ${m.blobs.linked} linked from ${m.incrementalFrom ?? '-'}\n` +
        `  secrets ${m.secrets ? m.secrets.file : 'none (set in the environment)'}; checksums in ${m.checksums.file}\n` +
        `  took ${formatDuration(seconds)}\n`,
    );
    for (const note of m.notes) io.out(`  note: ${note}\n`);
    for (const problem of result.problems) io.out(`✗ ${problem}\n`);
    if (result.problems.length > 0) {
      io.out(`the backup holds everything else, but ${result.problems.length} problems were found in the live data\n`);
      return 1;
    }
    return 0;
  },
};
