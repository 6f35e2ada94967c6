import { checks, type SmokeCheck } from './checks.ts';

export interface SmokeResult {
  check: SmokeCheck;
  ok: boolean;
  problems: string[];
}

function adminHeader(kind: SmokeCheck['admin'], password: string | undefined): string | undefined {
  if (!kind) return undefined;
  if (kind === 'wrong') return `Basic ${Buffer.from('admin:definitely-not-the-password').toString('base64')}`;
  if (password === undefined) return undefined;
  return kind === 'basic' ? `Basic ${Buffer.from(`admin:${password}`).toString('base64')}` : `Bearer ${password}`;
}

/** Runs every smoke check against a running server; never throws for a failed check. */
export async function runSmoke(baseUrl: string, opts: { adminPassword?: string } = {}): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const check of checks) {
    const problems: string[] = [];
    if (check.admin && check.admin !== 'wrong' && opts.adminPassword === undefined) {
      results.push({ check, ok: true, problems: ['skipped: no --admin-password given'] });
      continue;
    }
    const headers: Record<string, string> = { ...check.headers };
    const auth = adminHeader(check.admin, opts.adminPassword);
    if (auth) headers.authorization = auth;
    try {
      const res = await fetch(new URL(check.path, baseUrl), { method: check.method, headers, body: check.body });
      const text = await res.text();
      if (res.status !== check.expect.status) problems.push(`status ${res.status}, expected ${check.expect.status}`);
      for (const [name, value] of Object.entries(check.expect.headers ?? {})) {
        if (res.headers.get(name) !== value) problems.push(`header ${name} is ${res.headers.get(name)}, expected ${value}`);
      }
      const wantsJson = check.expect.error || check.expect.json || check.expect.present;
      if (wantsJson) {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          problems.push('body is not JSON');
        }
        if (check.expect.error && body.error !== check.expect.error) problems.push(`error ${String(body.error)}, expected ${check.expect.error}`);
        if (check.expect.error && typeof body.message !== 'string') problems.push('error has no message');
        for (const [key, value] of Object.entries(check.expect.json ?? {})) {
          if (body[key] !== value) problems.push(`${key} is ${JSON.stringify(body[key])}, expected ${JSON.stringify(value)}`);
        }
        for (const key of check.expect.present ?? []) if (!(key in body)) problems.push(`${key} is missing`);
      }
    } catch (err) {
      problems.push(`request failed: ${(err as Error).message}`);
    }
    results.push({ check, ok: problems.length === 0, problems });
  }
  return results;
}
