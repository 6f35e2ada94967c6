import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AccountStore } from './accounts/account-store.ts';
import { AppPasswords } from './accounts/app-passwords.ts';
import { Sessions } from './accounts/sessions.ts';
import { SessionTokens } from './auth/session-jwt.ts';
import type { Config } from './config.ts';
import { Database, migrate, migrations } from './db/index.ts';
import { LexiconSet } from './lexicon/index.ts';
import type { Logger } from './logger.ts';
import type { Secrets } from './secrets.ts';

/** The Lexicon documents the server knows, vendored in the repo. */
export const LEXICON_DIR = fileURLToPath(new URL('../lexicons', import.meta.url));

/** What handlers get. Domain modules get only their own dependencies, never the whole context. */
export interface AppContext {
  readonly config: Config;
  readonly secrets: Secrets;
  readonly log: Logger;
  readonly db: Database;
  readonly lexicons: LexiconSet;
  readonly accounts: AccountStore;
  readonly appPasswords: AppPasswords;
  readonly sessions: Sessions;
  readonly startedAt: Date;
  close(): Promise<void>;
}

export class BootError extends Error {}

export async function createContext(config: Config, secrets: Secrets, log: Logger): Promise<AppContext> {
  for (const dir of [config.storage.dataDir, config.storage.blobDir, config.storage.blobTmpDir]) {
    mkdirSync(dir, { recursive: true });
  }
  const db = new Database(config.storage.dbFile);
  const result = migrate(db, migrations);
  if (result.error) {
    db.close();
    throw new BootError(`database migration ${result.error.id} (${result.error.name}) failed: ${result.error.message}`);
  }
  if (result.applied.length > 0) log.info({ applied: result.applied.map((m) => `${m.id}-${m.name}`) }, 'database migrated');
  const lexicons = LexiconSet.fromDirectory(LEXICON_DIR);
  const accounts = new AccountStore(db);
  const appPasswords = new AppPasswords(db);
  const sessions = new Sessions(db, accounts, appPasswords, new SessionTokens(secrets.jwtSecret, config.service.did));

  let closed = false;
  return {
    config,
    secrets,
    log,
    db,
    lexicons,
    accounts,
    appPasswords,
    sessions,
    startedAt: new Date(),
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
