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

/** The request-line batch and the output stream of each logger that writes to standard output (see `requestLogger`). */
const outputs = new WeakMap<Logger, { batch: LineBatch; stdout: Stdout }>();

/**
 * Structured JSON logs. Anything that could carry a credential is redacted by path, as a
 * second line of defence: code never logs secrets, tokens or passwords on purpose.
 *
 * Without a destination, lines go to standard output, each as it is logged (while a write is in
 * flight, the lines after it gather and go out together); see `requestLogger` for the request
 * log. Unwritten output is bounded (MAX_UNWRITTEN_BYTES): past it lines are dropped.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  if (destination) return pino({ ...OPTIONS, level }, destination as never);
  const stdout = pino.destination({ dest: 1, maxLength: MAX_UNWRITTEN_BYTES, sync: false });
  const log = pino({ ...OPTIONS, level }, stdout);
  const batch = new LineBatch((text) => stdout.write(text));
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

/**
 * The logger of the one-line-per-request log. On standard output its lines are gathered in
 * memory and written in batches (BATCH_BYTES, or after FLUSH_MS): a write per line handed each
 * line to the thread pool, ~2.5% of a createRecord's server CPU and +33 MB of RSS under load
 * (bench/write-cost.ts, 6 rounds). They may follow later lines of other kinds by up to 250 ms
 * (each carries its time), and a SIGKILL loses at most those of the last 250 ms.
 */
export function requestLogger(log: Logger): Logger {
  const batch = outputs.get(log)?.batch;
  return batch ? pino({ ...OPTIONS, level: log.level }, batch) : log;
}

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
