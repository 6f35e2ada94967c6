// A child process for test/wal-checkpoint-crash.test.ts: writes rows to `argv[2]` in the write
// path's way (a transaction committed without fsync, then the WAL fsynced) with the WAL
// checkpointed in the background at small thresholds, and prints each row's id once it is durable
// (`ack <id>`), and each checkpoint (`checkpoint <where>`), until it is killed.
import { Database } from '../../src/db/database.ts';

const db = new Database(process.argv[2], { backgroundCheckpoints: { workerFrames: 40, restartFrames: 40, finishBacklog: 4 } });
db.onCheckpoint = (where) => process.stdout.write(`checkpoint ${where}\n`);
db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
for (;;) {
  const ids = db.transactionUnsynced(() => [0, 1, 2].map((i) => Number(insert.run(Buffer.alloc(2500, i)).lastInsertRowid)));
  await db.syncWal();
  process.stdout.write(ids.map((id) => `ack ${id}\n`).join(''));
  await new Promise((resolve) => setImmediate(resolve));
}
