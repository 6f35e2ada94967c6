import { printJson, type AdminCommand } from './admin-command.ts';

export const status: AdminCommand = {
  name: 'status',
  summary: 'server version, uptime, counts, storage, write path',
  async run({ io, extra }) {
    printJson(io, await extra.admin.call('_admin/status'));
  },
};
