import { resolve } from 'node:path';
import { formatReport, runDoctor } from '../../doctor/index.ts';
import { stringOption } from '../command.ts';
import type { AdminCommand } from './admin-command.ts';
import { serverConfig } from './data-tools.ts';

export const doctor: AdminCommand = {
  name: 'doctor',
  synopsis: '[--handle H] [--json] [--request-crawl] [--backup-dir DIR]',
  summary: 'why posts may not show up: server, firehose, identity, repo, relays, AppView',
  help: `Checks, on the server's machine with its environment, what makes posts invisible: the public URL
and its certificate, describeServer, the firehose through the reverse proxy, PLC, the relays
(--request-crawl asks them to crawl this host first), SMTP, disk space, the newest backup; then for
each active account (or --handle H) the handle both ways, the DID document, the repo, the relays'
and the AppView's view of it. One line per check with what to do; exit 1 when a check failed.`,
  options: { handle: { type: 'string' }, json: { type: 'boolean' }, 'request-crawl': { type: 'boolean' }, 'backup-dir': { type: 'string' } },
  async run(input) {
    const { io, options } = input;
    const backupDir = stringOption(options, 'backup-dir');
    const results = await runDoctor({
      config: serverConfig(input),
      handle: stringOption(options, 'handle'),
      requestCrawl: options['request-crawl'] === true,
      backupDir: backupDir === undefined ? undefined : resolve(io.cwd, backupDir),
    });
    io.out(options.json === true ? `${JSON.stringify(results, null, 2)}\n` : formatReport(results));
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  },
};
