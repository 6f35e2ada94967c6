// The `squall admin` commands (also `npm run admin -- <command>`). Adding one: a file in this
// directory exporting an `AdminCommand`, and one line in this list.
import { account } from './account/index.ts';
import type { AdminCommand } from './admin-command.ts';
import { deleteAccount } from './delete-account.ts';
import { invite } from './invite.ts';
import { migrateIn } from './migrate-in.ts';
import { migrateOut } from './migrate-out.ts';
import { resetPassword } from './reset-password.ts';
import { status } from './status.ts';
import { takedown } from './takedown.ts';
import { untakedown } from './untakedown.ts';

export const adminCommands: readonly AdminCommand[] = [
  status,
  account,
  invite,
  takedown,
  untakedown,
  resetPassword,
  deleteAccount,
  migrateIn,
  migrateOut,
];
