import type { AdminCommand } from './admin-command.ts';

/** `squall admin migrate-out`: `migrate-in` the other way round, this PDS being the old one (src/cli/migrate.ts). */
export const migrateOut: AdminCommand = {
  name: 'migrate-out',
  synopsis: '--account <handle|DID> --to <URL>',
  summary: 'move an account of this PDS to another PDS (see migrate-out --help)',
  rawArgs: true,
  async run({ args }) {
    const { main } = await import('../migrate.ts');
    return main('migrate-out', args);
  },
};
