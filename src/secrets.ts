import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, MIN_ADMIN_PASSWORD_LENGTH, type Config } from './config.ts';

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
  const stored: Partial<Secrets> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>) : {};
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
  const secrets: Secrets = {
    adminPassword: pick('adminPassword', config.secrets.adminPassword, () => randomBytes(18).toString('base64url')),
    jwtSecret: pick('jwtSecret', config.secrets.jwtSecret, () => randomBytes(32).toString('hex')),
    plcRotationKeyHex: pick('plcRotationKeyHex', config.secrets.plcRotationKeyHex, generatePrivateKeyHex),
  };
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

function generatePrivateKeyHex(): string {
  for (;;) {
    const bytes = randomBytes(32);
    const n = BigInt(`0x${bytes.toString('hex')}`);
    if (n > 0n && n < SECP256K1_N) return bytes.toString('hex');
  }
}
