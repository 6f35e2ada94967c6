// Command-line flags for the benchmark scripts: `--name value`, `--name=value` and bare `--flag`.

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string>;
}

export class UsageError extends Error {}

/** Splits argv into positionals and flags. A flag takes the next word as its value unless that is another flag. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg.length === 2) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq !== -1) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      flags.set(arg.slice(2), argv[++i]);
    } else {
      flags.set(arg.slice(2), 'true');
    }
  }
  return { positional, flags };
}

/** A numeric flag with bounds, or the fallback when absent; a bad value is a UsageError, not a silent default. */
export function numberFlag(args: ParsedArgs, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

export function boolFlag(args: ParsedArgs, name: string): boolean {
  const raw = args.flags.get(name);
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new UsageError(`--${name} takes no value (got "${raw}")`);
}

/** Fails on flags the script does not know, so a typo does not silently run the default benchmark. */
export function rejectUnknownFlags(args: ParsedArgs, known: readonly string[]): void {
  const unknown = [...args.flags.keys()].filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new UsageError(`unknown flag${unknown.length > 1 ? 's' : ''}: ${unknown.map((n) => `--${n}`).join(', ')}`);
}
