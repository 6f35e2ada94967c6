import { deleteAccount as accountDelete } from './account/delete.ts';
import type { AdminCommand } from './admin-command.ts';

/** The older spelling of `account delete`, kept for scripts that use it. */
export const deleteAccount: AdminCommand = { ...accountDelete, name: 'delete-account' };
