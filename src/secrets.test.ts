import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

describe('a damaged secrets.json', () => {
  const boot = (dir: string, env: Record<string, string> = {}) => loadOrCreateSecrets(loadConfig({ PDS_DATA_DIRECTORY: dir, ...env }));
  const stops = (dir: string, name: string, text: RegExp, env: Record<string, string> = {}) =>
    assert.throws(
      () => boot(dir, env),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${name}: `) && text.test(err.message),
    );

  it('that is not JSON stops the boot naming the file, and is left as it was', () => {
    const dir = dataDir();
    const file = join(dir, 'secrets.json');
    writeFileSync(file, '{"plcRotationKeyHex": "ab');
    stops(dir, file, /is not valid JSON .*restore it from a backup/);
    assert.equal(readFileSync(file, 'utf8'), '{"plcRotationKeyHex": "ab');
  });

  it('that is not an object stops the boot', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'secrets.json'), '["not", "secrets"]');
    stops(dir, join(dir, 'secrets.json'), /must hold a JSON object/);
  });

  it('with a key of the wrong type stops the boot instead of replacing the key with a new one', () => {
    const dir = dataDir();
    const file = join(dir, 'secrets.json');
    const text = JSON.stringify({ plcRotationKeyHex: 1234 });
    writeFileSync(file, text);
    stops(dir, 'plcRotationKeyHex', /secrets\.json must be a string/);
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  it('with a rotation key that is not a secp256k1 private key stops the boot before anything is written', () => {
    for (const bad of ['zz', 'f'.repeat(64), '0'.repeat(64)]) {
      const dir = dataDir();
      const file = join(dir, 'secrets.json');
      const text = JSON.stringify({ plcRotationKeyHex: bad });
      writeFileSync(file, text);
      stops(dir, 'plcRotationKeyHex', /secrets\.json is not a usable secp256k1 private key \(.+\): restore it from a backup/);
      // the admin password and JWT secret it would have generated are not written beside the bad key
      assert.equal(readFileSync(file, 'utf8'), text, bad);
    }
  });

  it('names the environment variable when the bad rotation key comes from there', () => {
    // 64 hex digits pass the configuration's format check; n (the group order) itself is no valid scalar
    const n = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';
    stops(dataDir(), 'PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX', /not a usable secp256k1 private key/, { PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: n });
  });

  it('with a short JWT secret stops the boot, as PDS_JWT_SECRET would', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ jwtSecret: 'short' }));
    stops(dir, 'jwtSecret', /secrets\.json must be at least 16 characters/);
  });

  it('still boots from a good file, and keeps its keys', () => {
    const dir = dataDir();
    const first = boot(dir).secrets;
    assert.deepEqual(boot(dir).secrets, first);
  });
});
