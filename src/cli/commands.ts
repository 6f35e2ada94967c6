// The top-level `squall` commands. Adding one: a file in src/cli/ exporting a `CliCommand`, and
// one line in this list. Admin tasks go in src/cli/admin/ instead.
import { admin } from './admin.ts';
import type { CliCommand } from './command.ts';
import { serve } from './serve.ts';
import { version } from './version.ts';

export const commands: readonly CliCommand[] = [serve, admin, version];
