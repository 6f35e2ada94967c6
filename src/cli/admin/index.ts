// The `squall admin` commands (also `npm run admin -- <command>`). Adding one: a file in this
// directory exporting an `AdminCommand`, and one line in this list.
import { account } from './account/index.ts';
import type { AdminCommand } from './admin-command.ts';
import { backup } from './backup.ts';
import { deleteAccount } from './delete-account.ts';
import { doctor } from './doctor.ts';
import { invite } from './invite.ts';
import { migrateIn } from './migrate-in.ts';
import { migrateOut } from './migrate-out.ts';
import { resetPassword } from './reset-password.ts';
import { restore } from './restore.ts';
import { status } from './status.ts';
import { takedown } from './takedown.ts';
import { untakedown } from './untakedown.ts';
import { verify } from './verify.ts';

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
  backup,
  restore,
  verify,
  doctor,
];
