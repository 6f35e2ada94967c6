import type { CliCommand, CliIo } from '../command.ts';
import type { AdminClient } from './client.ts';

/** An admin command gets a client for the running server (it asks for the password on first use). */
export type AdminCommand = CliCommand<{ admin: AdminClient }>;

export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}
