import type { AdminCommand } from './admin-command.ts';

/**
 * `squall admin migrate-in`: acts for a user (their password, the old PDS's mailed code), not with
 * the admin password, so it parses its own arguments and prints its own help (src/cli/migrate.ts).
 */
export const migrateIn: AdminCommand = {
  name: 'migrate-in',
  synopsis: '--from <handle|DID>',
  summary: 'move an account from its PDS to this one (see migrate-in --help)',
  rawArgs: true,
  async run({ args }) {
    const { main } = await import('../migrate.ts');
    return main('migrate-in', args);
  },
};
