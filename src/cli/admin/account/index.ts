import type { AdminCommand } from '../admin-command.ts';
import { createAccount } from './create.ts';
import { deleteAccount } from './delete.ts';
import { listAccounts } from './list.ts';
import { showAccount } from './show.ts';

export const account: AdminCommand = {
  name: 'account',
  synopsis: 'create|list|delete|show ...',
  summary: 'manage accounts',
  subcommands: [createAccount, listAccounts, deleteAccount, showAccount],
  defaultSubcommand: 'show',
};
