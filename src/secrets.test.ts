import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig, MIN_ADMIN_PASSWORD_LENGTH } from './config.ts';
import { loadOrCreateSecrets } from './secrets.ts';

const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'squall-secrets-'));
  dirs.push(dir);
  return dir;
};

describe('the admin password', () => {
  it('is generated long enough to pass the minimum it would need as PDS_ADMIN_PASSWORD', () => {
    const dir = dataDir();
    const { secrets, generated } = loadOrCreateSecrets(loadConfig({ PDS_DATA_DIRECTORY: dir }));
    assert.ok(generated.includes('adminPassword'));
    assert.ok(secrets.adminPassword.length >= MIN_ADMIN_PASSWORD_LENGTH);
    assert.equal(loadConfig({ PDS_ADMIN_PASSWORD: secrets.adminPassword }).secrets.adminPassword, secrets.adminPassword);
    assert.equal(loadOrCreateSecrets(loadConfig({ PDS_DATA_DIRECTORY: dir })).secrets.adminPassword, secrets.adminPassword);
  });

  it('stops the server when secrets.json holds a short one, naming the file and key', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ adminPassword: 'admin' }));
    assert.throws(
      () => loadOrCreateSecrets(loadConfig({ PDS_DATA_DIRECTORY: dir })),
      (err: unknown) => err instanceof ConfigError && err.message.includes('secrets.json') && err.message.startsWith('adminPassword: '),
    );
  });
});
