// What a command of the `squall` command line is. Adding a command is one file exporting a
// `CliCommand` plus one line in the registry it belongs to (src/cli/commands.ts for top-level
// commands, src/cli/admin/index.ts for `squall admin ...`).
import { parseArgs, type ParseArgsConfig } from 'node:util';

export type CliOptions = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Where a command writes; the real process or a buffer in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
}

export interface CommandInput<Extra = object> {
  /** Positional arguments after the command name. */
  readonly args: string[];
  readonly options: OptionValues;
  readonly io: CliIo;
  readonly extra: Extra;
  /** `squall admin takedown <did|handle> [--ref REF]`, for messages. */
  readonly usage: string;
}

export interface CliCommand<Extra = object> {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Argument synopsis after the command name, e.g. `<did|handle> [--ref REF]`. */
  readonly synopsis?: string;
  /** More lines of help, shown by `<command> --help`. */
  readonly help?: string;
  readonly options?: CliOptions;
  /** Resolves to the process exit code (0 when nothing is returned). */
  run?(input: CommandInput<Extra>): Promise<number | void> | number | void;
  /** A command group (`account create`, `account list`): the next word picks one of these. */
  readonly subcommands?: readonly CliCommand<Extra>[];
  /** Hand the arguments over unparsed (a command that dispatches further by itself). */
  readonly rawArgs?: boolean;
  /** In a group, the subcommand used when the next word names none of them (`account alice.test`). */
  readonly defaultSubcommand?: string;
}

/** A failure the user can act on: printed as one message, exit code 2 unless given. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** What the dispatcher needs besides the command table. */
export interface DispatchContext<Extra> {
  readonly io: CliIo;
  /** What the commands of this table get besides their arguments, built from the parsed options. */
  extra(options: OptionValues): Extra;
  /** Options every command of this table accepts. */
  readonly sharedOptions: CliOptions;
  /** How the commands are invoked, for usage lines: `squall admin `. */
  readonly prefix: string;
  /** Printed under the command list. */
  readonly footer?: string;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * Runs the command `argv[0]` names with the rest of `argv`: groups descend, options are parsed
 * strictly (the command's own plus the shared ones), `--help` prints the command's usage.
 */
export async function dispatch<Extra>(commands: readonly CliCommand<Extra>[], argv: string[], ctx: DispatchContext<Extra>): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const text = `usage: ${ctx.prefix}<command> [arguments]\n\ncommands:\n${describeCommands(ctx.prefix, commands)}${ctx.footer ? `\n\n${ctx.footer}` : ''}\n`;
    if (name === undefined) {
      ctx.io.err(text);
      return 2;
    }
    ctx.io.out(text);
    return 0;
  }
  const command = findCommand(commands, name);
  if (!command) throw new CliError(`unknown command "${ctx.prefix}${name}" (see \`${ctx.prefix}--help\`)`);
  if (command.subcommands) {
    const group = { ...ctx, prefix: `${ctx.prefix}${name} `, footer: command.help };
    const next = rest[0];
    const named = next !== undefined && findCommand(command.subcommands, next) !== undefined;
    if (!named && command.defaultSubcommand && next !== undefined && !next.startsWith('-')) {
      return dispatch(command.subcommands, [command.defaultSubcommand, ...rest], group);
    }
    return dispatch(command.subcommands, rest, group);
  }
  if (command.rawArgs) {
    if (!command.run) throw new CliError(`"${ctx.prefix}${name}" does nothing by itself`);
    return (await command.run({ args: rest, options: {}, io: ctx.io, extra: ctx.extra({}), usage: `${ctx.prefix}${name}` })) ?? 0;
  }
  const parsed = parseCommandArgs(rest, { ...ctx.sharedOptions, ...command.options, ...HELP_OPTION });
  const usage = `${ctx.prefix}${name}${command.synopsis ? ` ${command.synopsis}` : ''}`;
  if (parsed.options.help) {
    ctx.io.out(`usage: ${usage}\n\n${command.summary}${command.help ? `\n\n${command.help}` : ''}\n`);
    return 0;
  }
  if (!command.run) throw new CliError(`"${ctx.prefix}${name}" does nothing by itself`);
  return (await command.run({ args: parsed.args, options: parsed.options, io: ctx.io, extra: ctx.extra(parsed.options), usage })) ?? 0;
}

/** Throws the usage error unless there are at least `count` positional arguments. */
export function requireArgs(input: CommandInput<unknown>, count: number): void {
  if (input.args.length < count) throw new CliError(`missing arguments: usage: ${input.usage}`);
}

export function parseCommandArgs(argv: string[], options: CliOptions): { args: string[]; options: OptionValues } {
  try {
    const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { args: parsed.positionals, options: parsed.values as OptionValues };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** A string option's value (parseArgs types them loosely). */
export function stringOption(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

/** The command list of a registry, aligned, for usage texts. */
export function describeCommands(prefix: string, commands: readonly CliCommand<never>[]): string {
  const rows = commands.map((c) => [`${prefix}${c.name}${c.synopsis ? ` ${c.synopsis}` : ''}`, c.summary] as const);
  const width = Math.min(Math.max(...rows.map(([left]) => left.length)), 44) + 2;
  // A synopsis too long for the column gets its summary on the next line.
  return rows
    .map(([left, right]) => (left.length + 2 > width ? `  ${left}\n  ${' '.repeat(width)}${right}` : `  ${left.padEnd(width)}${right}`))
    .join('\n');
}

export function findCommand<C extends CliCommand<never>>(commands: readonly C[], name: string): C | undefined {
  return commands.find((c) => c.name === name);
}
