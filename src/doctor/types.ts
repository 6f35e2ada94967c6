/** One line of the doctor's report. */
export interface CheckResult {
  /** What was checked: `public-url`, `handle alice.example.com`, `relay https://bsky.network`... */
  check: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  /** What was found. */
  message: string;
  /** What to do about it (fail and warn). */
  fix?: string;
}

export const pass = (check: string, message: string): CheckResult => ({ check, status: 'pass', message });
export const fail = (check: string, message: string, fix: string): CheckResult => ({ check, status: 'fail', message, fix });
export const warn = (check: string, message: string, fix: string): CheckResult => ({ check, status: 'warn', message, fix });
export const skip = (check: string, message: string): CheckResult => ({ check, status: 'skip', message });
