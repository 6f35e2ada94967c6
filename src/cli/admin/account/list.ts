import type { AdminCommand } from '../admin-command.ts';

interface RepoEntry {
  did: string;
  active: boolean;
  status?: string;
}
interface AccountInfo {
  did: string;
  handle: string;
  email?: string;
  indexedAt: string;
}

const PAGE = 500;
const INFO_BATCH = 100;

export const listAccounts: AdminCommand = {
  name: 'list',
  synopsis: '[--json]',
  summary: 'list the accounts: handle, email, DID, created, status',
  options: { json: { type: 'boolean' } },
  async run({ io, options, extra: { admin } }) {
    const repos: RepoEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await admin.call<{ repos: RepoEntry[]; cursor?: string }>('com.atproto.sync.listRepos', {
        query: { limit: String(PAGE), ...(cursor ? { cursor } : {}) },
        auth: false,
      });
      repos.push(...page.repos);
      cursor = page.repos.length > 0 ? page.cursor : undefined;
    } while (cursor);
    const infos = new Map<string, AccountInfo>();
    for (let i = 0; i < repos.length; i += INFO_BATCH) {
      const dids = repos.slice(i, i + INFO_BATCH).map((r) => r.did);
      const { infos: batch } = await admin.call<{ infos: AccountInfo[] }>('com.atproto.admin.getAccountInfos', { query: { dids } });
      for (const info of batch) infos.set(info.did, info);
    }
    const rows = repos.map((repo) => {
      const info = infos.get(repo.did);
      return { handle: info?.handle ?? '', email: info?.email ?? '', did: repo.did, createdAt: info?.indexedAt ?? '', status: repo.active ? 'active' : (repo.status ?? 'inactive') };
    });
    if (options.json) {
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      io.out('no accounts\n');
      return;
    }
    io.out(formatTable(['handle', 'email', 'did', 'created', 'status'], rows.map((r) => [r.handle, r.email, r.did, r.createdAt, r.status])));
  },
};

function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()}\n`;
  return line(header) + rows.map(line).join('');
}
