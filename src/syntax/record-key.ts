export const MAX_RECORD_KEY_LENGTH = 512;

const RECORD_KEY_RE = /^[a-zA-Z0-9_~.:-]{1,512}$/;

/** Record key syntax: 1-512 characters of `[A-Za-z0-9._:~-]`, except `.` and `..` (path traversal). */
export function isValidRecordKey(s: string): boolean {
  return s.length <= MAX_RECORD_KEY_LENGTH && RECORD_KEY_RE.test(s) && s !== '.' && s !== '..';
}
