import { dispatch, type CliCommand } from './command.ts';
import { adminCommands } from './admin/index.ts';
import { ADMIN_OPTIONS, createAdminClient } from './admin/client.ts';

const FOOTER = `Every command talks to a running Squall over XRPC:
  --url URL               the server (default: PDS_PUBLIC_URL, else http://127.0.0.1:$PDS_PORT or :2583)
  --admin-password PW     else PDS_ADMIN_PASSWORD, else <data dir>/secrets.json
  --data-dir DIR          where secrets.json is (default: PDS_DATA_DIRECTORY or ./data)`;

export const admin: CliCommand = {
  name: 'admin',
  synopsis: '<command>',
  summary: 'admin tasks against a running Squall (`squall admin --help` lists them)',
  rawArgs: true,
  run({ args, io }) {
    return dispatch(adminCommands, args, {
      io,
      sharedOptions: ADMIN_OPTIONS,
      prefix: 'squall admin ',
      footer: FOOTER,
      extra: (options) => ({ admin: createAdminClient(options, io) }),
    });
  },
};
