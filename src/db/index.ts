export { Database, type SqliteHandle, type Statement } from './database.ts';
export { migrate, type Migration, type MigrationResult } from './migrate.ts';
export { migrations } from './migrations/index.ts';
