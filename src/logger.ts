import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Request lines wait in memory until this much has gathered, then go out in one write... */
const BATCH_BYTES = 8 * 1024;
/** ...or until this many ms have passed, so a quiet server's lines are not held back. */
const FLUSH_MS = 250;
/** Lines are dropped, not buffered, beyond this much unwritten (a reader that stopped reading). */
const MAX_UNWRITTEN_BYTES = 32 * 1024 * 1024;

const OPTIONS: LoggerOptions = {
  base: { service: 'squall' },
  timestamp: pino.stdTimeFunctions.isoTime,
  redact: {
    paths: [
      'password',
      '*.password',
      'token',
      '*.token',
      'authorization',
      '*.authorization',
      'req.headers.authorization',
      'req.headers.cookie',
      'headers.authorization',
      'accessJwt',
      'refreshJwt',
      '*.accessJwt',
      '*.refreshJwt',
      'secrets',
      '*.secrets',
    ],
    censor: '[redacted]',
  },
  serializers: { err: pino.stdSerializers.err },
};

type Stdout = ReturnType<typeof pino.destination>;

/** Loggers writing to standard output: their batch in front of it, and the stream itself. */
const outputs = new WeakMap<Logger, { batch: LineBatch; stdout: Stdout }>();

/**
 * Structured JSON logs. Anything that could carry a credential is redacted by path, as a
 * second line of defence: code never logs secrets, tokens or passwords on purpose.
 *
 * Without a destination, lines go to standard output through a batch: each line is written at
 * once (with the request lines waiting before it), except the request log's (see
 * `requestLogger`). Unwritten output is bounded (MAX_UNWRITTEN_BYTES): past it lines are dropped.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  if (destination) return pino({ ...OPTIONS, level }, destination as never);
  const stdout = pino.destination({ dest: 1, maxLength: MAX_UNWRITTEN_BYTES, sync: false });
  const batch = new LineBatch((text) => stdout.write(text));
  const log = pino(
    {
      ...OPTIONS,
      level,
      hooks: {
        logMethod(this: Logger, args: Parameters<Logger['info']>, method: (...a: Parameters<Logger['info']>) => void) {
          method.apply(this, args);
          batch.flush();
        },
      },
    },
    batch,
  );
  outputs.set(log, { batch, stdout });
  flushOnExit(log);
  return log;
}

/** Loggers writing to standard output, held weakly (a logger may be dropped). */
const live: Array<WeakRef<Logger>> = [];
let exitListener = false;

/** On exit pino writes what standard output still holds; each batch must reach it first. One listener for every logger. */
function flushOnExit(log: Logger): void {
  if (!exitListener) {
    exitListener = true;
    process.once('exit', () => {
      for (const ref of live) {
        const output = outputs.get(ref.deref() as Logger);
        if (!output) continue;
        output.batch.flush();
        try {
          output.stdout.flushSync();
        } catch {
          // standard output gone or not ready: nothing more can be written
        }
      }
    });
  }
  for (let i = live.length - 1; i >= 0; i--) if (live[i].deref() === undefined) live.splice(i, 1);
  live.push(new WeakRef(log));
}

/** The request log: one line per request, with fixed fields (no credential can be among them). */
export interface RequestLog {
  info(fields: Record<string, string | number | undefined>, msg: string): void;
}

/**
 * The one-line-per-request log. On standard output its lines wait in memory and are written in
 * batches (BATCH_BYTES, or after FLUSH_MS, or with the next line of another kind): a write per
 * line handed each line to the thread pool, and held ~15 MB more at the end of a 3,000-write run
 * (bench/write-cost.ts, 8 rounds: 213 -> 198 MB; CPU within the noise). A SIGKILL loses at most
 * the request lines of the last 250 ms.
 *
 * The line is written here, in pino's format, not by pino: its fields are fixed (method, NSID or
 * path without the query, status, ms), so the redaction pass, whose wildcard paths run on every
 * value, has nothing to find (~7 of the ~11 us pino takes a line). A pino child without the
 * redaction paths did the same but held 13-17 MB more RSS from start-up (unexplained; a second
 * pino instance held 9 MB). With a destination of its own (tests), the logger itself.
 */
export function requestLogger(log: Logger): RequestLog {
  const output = outputs.get(log);
  if (!output) return log;
  return {
    info(fields, msg) {
      if (!log.isLevelEnabled('info')) return;
      let line = `{"level":${INFO},"time":"${new Date().toISOString()}",${BASE}`;
      for (const key in fields) if (fields[key] !== undefined) line += `,${JSON.stringify(key)}:${JSON.stringify(fields[key])}`;
      output.batch.write(`${line},"msg":${JSON.stringify(msg)}}\n`);
    },
  };
}

const INFO = pino.levels.values.info;
/** The base bindings as pino writes them after the time: `"service":"squall"`. */
const BASE = JSON.stringify(OPTIONS.base).slice(1, -1);

/** Lines gathered in memory and handed on as one string. */
class LineBatch {
  #lines: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: (text: string) => void) {}

  write(line: string): boolean {
    this.#lines.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= BATCH_BYTES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
    return true;
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#lines.length === 0) return;
    const text = this.#lines.join('');
    this.#lines = [];
    this.#bytes = 0;
    this.out(text);
  }
}
