import type { CheckResult } from './types.ts';

export { runDoctor, type DoctorOptions } from './doctor.ts';
export type { CheckResult } from './types.ts';

const MARK = { pass: '✔', fail: '✗', warn: '!', skip: '-' } as const;

/** The report for a terminal: one line per check, what to do under each problem, a count. */
export function formatReport(results: readonly CheckResult[]): string {
  let text = '';
  for (const r of results) {
    text += `${MARK[r.status]} ${r.check}: ${r.message}\n`;
    if (r.fix && r.status !== 'pass') text += `    → ${r.fix}\n`;
  }
  const count = (status: CheckResult['status']) => results.filter((r) => r.status === status).length;
  text += `\n${count('pass')} checks passed, ${count('fail')} failed, ${count('warn')} warnings\n`;
  return text;
}
