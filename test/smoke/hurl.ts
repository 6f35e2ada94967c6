import { checks, type SmokeCheck } from './checks.ts';

/** Renders the smoke checks as a hurl file: `hurl --test --variable base_url=... --variable admin_password=...`. */
export function renderHurl(): string {
  const blocks = checks.map(renderCheck);
  return `# Generated from test/smoke/checks.ts by \`npm run smoke:hurl\`; do not edit by hand.\n# hurl --test --variable base_url=http://127.0.0.1:2583 --variable admin_password=... test/smoke/xrpc.hurl\n\n${blocks.join('\n')}`;
}

function renderCheck(check: SmokeCheck): string {
  const lines = [`# ${check.name}`, `${check.method} {{base_url}}${check.path}`];
  for (const [name, value] of Object.entries(check.headers ?? {})) lines.push(`${name}: ${value}`);
  if (check.admin === 'wrong') lines.push(`Authorization: Basic ${Buffer.from('admin:definitely-not-the-password').toString('base64')}`);
  if (check.admin === 'basic' || check.admin === 'bearer') lines.push('[BasicAuth]', 'admin: {{admin_password}}');
  if (check.body !== undefined) lines.push('```', check.body, '```');
  lines.push(`HTTP ${check.expect.status}`);
  const asserts: string[] = [];
  for (const [name, value] of Object.entries(check.expect.headers ?? {})) asserts.push(`header "${name}" == "${value}"`);
  if (check.expect.error) {
    asserts.push(`jsonpath "$.error" == "${check.expect.error}"`, 'jsonpath "$.message" isString');
  }
  for (const [key, value] of Object.entries(check.expect.json ?? {})) {
    asserts.push(`jsonpath "$.${key}" == ${typeof value === 'string' ? `"${value}"` : String(value)}`);
  }
  for (const key of check.expect.present ?? []) asserts.push(`jsonpath "$.${key}" exists`);
  if (asserts.length) lines.push('[Asserts]', ...asserts);
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(new URL('./xrpc.hurl', import.meta.url), renderHurl());
  console.log('wrote test/smoke/xrpc.hurl');
}
