import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, MIN_ADMIN_PASSWORD_LENGTH, MIN_JWT_SECRET_LENGTH, type Config } from './config.ts';
import { importKeypairSync } from './crypto/index.ts';

export interface Secrets {
  adminPassword: string;
  jwtSecret: string;
  plcRotationKeyHex: string;
}

/** secp256k1 group order: a private key must be in [1, n-1]. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export interface SecretsResult {
  secrets: Secrets;
  /** Where generated secrets are kept (only when some were generated or loaded from it). */
  file?: string;
  generated: Array<keyof Secrets>;
}

/**
 * Secrets come from the environment when set; otherwise they are generated once and kept in
 * `<data dir>/secrets.json` (mode 0600), so a plain `npm start` needs no set-up and restarts
 * keep every session and key valid.
 */
export function loadOrCreateSecrets(config: Config): SecretsResult {
  const file = join(config.storage.dataDir, 'secrets.json');
  const stored = existsSync(file) ? readSecretsFile(file) : {};
  const generated: Array<keyof Secrets> = [];
  const pick = (key: keyof Secrets, fromEnv: string | undefined, make: () => string): string => {
    if (fromEnv !== undefined) return fromEnv;
    if (typeof stored[key] === 'string' && stored[key] !== '') return stored[key]!;
    generated.push(key);
    stored[key] = make();
    return stored[key]!;
  };
  if (config.secrets.adminPassword === undefined && typeof stored.adminPassword === 'string' && stored.adminPassword.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new ConfigError('adminPassword', `in ${file} must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters (delete the key to have one generated)`);
  }
  if (config.secrets.jwtSecret === undefined && typeof stored.jwtSecret === 'string' && stored.jwtSecret !== '' && stored.jwtSecret.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigError('jwtSecret', `in ${file} must be at least ${MIN_JWT_SECRET_LENGTH} characters (deleting it makes a new one and signs everyone out)`);
  }
  const secrets: Secrets = {
    adminPassword: pick('adminPassword', config.secrets.adminPassword, () => randomBytes(18).toString('base64url')),
    jwtSecret: pick('jwtSecret', config.secrets.jwtSecret, () => randomBytes(32).toString('hex')),
    plcRotationKeyHex: pick('plcRotationKeyHex', config.secrets.plcRotationKeyHex, generatePrivateKeyHex),
  };
  checkRotationKey(secrets.plcRotationKeyHex, config.secrets.plcRotationKeyHex !== undefined ? undefined : file);
  if (generated.length > 0) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
    chmodSync(file, 0o600);
  }
  const usesFile = generated.length > 0 || Object.keys(stored).length > 0;
  return { secrets, file: usesFile ? file : undefined, generated };
}

const KEYS: ReadonlyArray<keyof Secrets> = ['adminPassword', 'jwtSecret', 'plcRotationKeyHex'];

/**
 * The stored secrets, checked before anything uses or rewrites them: a damaged file stops the
 * boot, naming the file, instead of failing later with a bare parser error or, for a key of the
 * wrong type, being replaced by a fresh secret (a new rotation key could not update the DIDs
 * this server created).
 */
export function readSecretsFile(file: string): Partial<Secrets> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new ConfigError(file, `is not valid JSON (${err.message}); it holds this server's secrets, the PLC rotation key among them: repair it or restore it from a backup`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(file, 'must hold a JSON object of secrets (adminPassword, jwtSecret, plcRotationKeyHex)');
  }
  const stored = parsed as Record<string, unknown>;
  for (const key of KEYS) {
    if (stored[key] !== undefined && typeof stored[key] !== 'string') throw new ConfigError(key, `in ${file} must be a string`);
  }
  return stored as Partial<Secrets>;
}

/** The PLC rotation key must import (64 hex digits, a scalar in [1, n-1]) before the server touches its data. */
function checkRotationKey(hex: string, file: string | undefined): void {
  try {
    importKeypairSync('ES256K', hex);
  } catch (err) {
    const reason = (err as Error).message;
    if (file === undefined) throw new ConfigError('PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX', `is not a usable secp256k1 private key: ${reason}`);
    throw new ConfigError('plcRotationKeyHex', `in ${file} is not a usable secp256k1 private key (${reason}): restore it from a backup; deleting it makes a new key, which cannot update the DIDs this server created`);
  }
}

function generatePrivateKeyHex(): string {
  for (;;) {
    const bytes = randomBytes(32);
    const n = BigInt(`0x${bytes.toString('hex')}`);
    if (n > 0n && n < SECP256K1_N) return bytes.toString('hex');
  }
}
