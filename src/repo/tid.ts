// Timestamp identifiers (TIDs): 64 bits (top bit 0, 53 bits of microseconds since the epoch, 10 bits
// of clock id) written as 13 characters of base32-sortable, so string order is time order. The
// layout lines up with the characters: 11 characters hold the timestamp, the last 2 the clock id,
// which lets us encode with plain numbers instead of BigInt.

const ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
const TID_RE = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
const DECODE: Record<string, number> = Object.fromEntries([...ALPHABET].map((c, i) => [c, i]));
const MAX_TIMESTAMP = 2 ** 53 - 1;

export class InvalidTidError extends Error {
  override name = 'InvalidTidError';
}

export function isTid(s: unknown): s is string {
  return typeof s === 'string' && TID_RE.test(s);
}

/** Orders TIDs as time does (-1, 0, 1). Same-length base32-sortable strings sort as their numbers. */
export function compareTids(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds a TID from a microsecond timestamp and a 10-bit clock id. */
export function tidFromParts(timestampMicros: number, clockId: number): string {
  if (!Number.isSafeInteger(timestampMicros) || timestampMicros < 0) {
    throw new InvalidTidError(`TID timestamp must be a non-negative safe integer, got ${timestampMicros}`);
  }
  if (!Number.isInteger(clockId) || clockId < 0 || clockId > 1023) {
    throw new InvalidTidError(`TID clock id must be an integer in [0, 1023], got ${clockId}`);
  }
  let out = '';
  let ts = timestampMicros;
  for (let i = 0; i < 11; i++) {
    out = ALPHABET[ts % 32] + out;
    ts = Math.floor(ts / 32);
  }
  return out + ALPHABET[clockId >> 5] + ALPHABET[clockId & 31];
}

export function tidToTimestampMicros(tid: string): number {
  if (!isTid(tid)) throw new InvalidTidError(`not a TID: ${JSON.stringify(String(tid).slice(0, 40))}`);
  let ts = 0;
  for (let i = 0; i < 11; i++) ts = ts * 32 + DECODE[tid[i]];
  return ts;
}

export function tidToClockId(tid: string): number {
  if (!isTid(tid)) throw new InvalidTidError(`not a TID: ${JSON.stringify(String(tid).slice(0, 40))}`);
  return DECODE[tid[11]] * 32 + DECODE[tid[12]];
}

export interface TidClockOptions {
  /** Current time in microseconds since the epoch. Defaults to `Date.now() * 1000`. */
  now?: () => number;
  /** 10-bit clock id; random by default, chosen once per generator. */
  clockId?: number;
}

/**
 * A TID source that never repeats or goes backwards, even when the wall clock steps back (NTP,
 * VM migration): it keeps the last timestamp it handed out and moves one microsecond past it
 * whenever the clock has not.
 */
export class TidClock {
  readonly clockId: number;
  readonly #now: () => number;
  #last = 0;

  constructor(options: TidClockOptions = {}) {
    this.#now = options.now ?? (() => Date.now() * 1000);
    this.clockId = options.clockId ?? Math.floor(Math.random() * 1024);
    tidFromParts(0, this.clockId); // validates the clock id
  }

  next(): string {
    return tidFromParts(this.#advance(0), this.clockId);
  }

  /**
   * A TID strictly greater than `prev` (and than anything this clock issued). Repository revisions
   * use this with the previous commit's rev, so revs keep growing across restarts and clock jumps.
   */
  nextAfter(prev: string | null): string {
    // A later timestamp alone makes the TID greater, whatever the clock ids.
    const floor = prev === null ? 0 : tidToTimestampMicros(prev) + 1;
    return tidFromParts(this.#advance(floor), this.clockId);
  }

  #advance(floor: number): number {
    let ts = Math.floor(this.#now());
    if (ts <= this.#last) ts = this.#last + 1;
    if (ts < floor) ts = floor;
    if (ts > MAX_TIMESTAMP) throw new InvalidTidError('TID timestamp overflow');
    this.#last = ts;
    return ts;
  }
}

const processClock = new TidClock();

/** The next TID of this process: monotonic, with a clock id chosen once per process. */
export function nextTid(): string {
  return processClock.next();
}

/** The next TID of this process that is also strictly greater than `prev` (null: no constraint). */
export function nextTidAfter(prev: string | null): string {
  return processClock.nextAfter(prev);
}
