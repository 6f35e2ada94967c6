import { dispatch, type CliCommand } from './command.ts';

const FOOTER = `Every command talks to a running Squall over XRPC:
  --url URL               the server (default: PDS_PUBLIC_URL, else http://127.0.0.1:$PDS_PORT or :2583)
  --admin-password PW     else PDS_ADMIN_PASSWORD, else <data dir>/secrets.json
  --data-dir DIR          where secrets.json is (default: PDS_DATA_DIRECTORY or ./data)`;

export const admin: CliCommand = {
  name: 'admin',
  synopsis: '<command>',
  summary: 'admin tasks against a running Squall (`squall admin --help` lists them)',
  rawArgs: true,
  async run({ args, io }) {
    // Loaded here, not at the top: `squall serve` would otherwise hold every admin tool in memory
    // (the doctor's TLS checks, backup, restore, migration).
    const [{ adminCommands }, { ADMIN_OPTIONS, createAdminClient }] = await Promise.all([import('./admin/index.ts'), import('./admin/client.ts')]);
    return dispatch(adminCommands, args, {
      io,
      sharedOptions: ADMIN_OPTIONS,
      prefix: 'squall admin ',
      footer: FOOTER,
      extra: (options) => ({ admin: createAdminClient(options, io) }),
    });
  },
};
