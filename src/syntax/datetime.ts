/**
 * Generous bound on a datetime's length: the profile allows any number of fraction digits,
 * but nothing real needs more than nanoseconds, and a bound keeps the work constant.
 */
export const MAX_DATETIME_LENGTH = 64;

interface DatetimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Offset from UTC in minutes (east positive); 0 for `Z`. */
  offset: number;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

/**
 * Reads the atproto datetime profile (the intersection of RFC 3339 and ISO 8601):
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, uppercase `T` and `Z`, `-00:00` refused.
 * Only the shape is checked here; field ranges are checked by isValidDatetime.
 */
function readDatetime(s: string): DatetimeFields | undefined {
  const len = s.length;
  if (len < 20 || len > MAX_DATETIME_LENGTH) return undefined;
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(10) !== 0x54) return undefined;
  if (s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if ((year | month | day | hour | minute | second) < 0) return undefined;
  let i = 19;
  if (s.charCodeAt(i) === 0x2e) {
    const start = ++i;
    while (i < len && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return undefined;
  }
  const tz = s.charCodeAt(i);
  if (tz === 0x5a) {
    return i + 1 === len ? { year, month, day, hour, minute, second, offset: 0 } : undefined;
  }
  if ((tz !== 0x2b && tz !== 0x2d) || len - i !== 6 || s.charCodeAt(i + 3) !== 0x3a) return undefined;
  const offHour = digits(s, i + 1, 2);
  const offMinute = digits(s, i + 4, 2);
  if ((offHour | offMinute) < 0 || offHour > 23 || offMinute > 59) return undefined;
  // ISO 8601 has no negative zero offset.
  if (tz === 0x2d && offHour === 0 && offMinute === 0) return undefined;
  const magnitude = offHour * 60 + offMinute;
  return { year, month, day, hour, minute, second, offset: tz === 0x2b ? magnitude : -magnitude };
}

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Whether the string has the datetime shape, without checking that the fields make sense. */
export function isDatetimeSyntax(s: string): boolean {
  return readDatetime(s) !== undefined;
}

/**
 * The Lexicon `datetime` format: the shape, plus real calendar values (no month 13, no
 * 30 February, no leap second, which JavaScript dates cannot hold) and no instant before
 * year zero once the offset is applied (`0000-01-01T00:00:00+01:00`).
 */
export function isValidDatetime(s: string): boolean {
  const f = readDatetime(s);
  if (!f) return false;
  if (f.month < 1 || f.month > 12 || f.day < 1) return false;
  const monthDays = f.month === 2 && isLeapYear(f.year) ? 29 : DAYS_IN_MONTH[f.month - 1];
  if (f.day > monthDays || f.hour > 23 || f.minute > 59 || f.second > 59) return false;
  if (f.year === 0 && f.offset > 0) {
    const dayOfYear = DAYS_BEFORE_MONTH[f.month - 1] + (f.month > 2 ? 1 : 0) + f.day - 1; // year 0 is a leap year
    if (dayOfYear * 1440 + f.hour * 60 + f.minute < f.offset) return false;
  }
  return true;
}
