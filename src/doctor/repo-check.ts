import type BetterSqlite3 from 'better-sqlite3';
import { cidMatchesBytes, cidToString, parseCid } from '../ipld/cid.ts';
import { repoBlockReader } from '../repo/sqlite-block-store.ts';
import { verifiedTree, verifyCommitBlock, type SyncBlockSource } from '../repo/verify.ts';
import type { DoctorAccount } from './account-checks.ts';
import { fail, pass, type CheckResult } from './types.ts';

/**
 * The account's repo as a relay checks it: the head commit signed by the account's current key,
 * its rev and MST root those the server announces, every block of the tree present and matching
 * its CID. Read in one transaction on a read-only connection, so a live server's writes meanwhile
 * are not seen half-done.
 */
export async function checkRepo(account: DoctorAccount, db: BetterSqlite3.Database): Promise<CheckResult> {
  const name = `repo of ${account.handle}`;
  const fix = 'stop the server and run `npm run admin -- verify` for the whole report; restore the newest backup that verifies (docs/operations.md)';
  db.exec('BEGIN');
  try {
    const root = db.prepare('SELECT cid, rev, data FROM repo_root WHERE did = ?').get(account.did) as { cid: string; rev: string; data: string } | undefined;
    if (!root) return fail(name, 'the account has no repo', 'the account is incomplete (an interrupted creation or import): import the repo again, or delete and recreate the account');
    const blocks = repoBlockReader(db);
    const source: SyncBlockSource = {
      get(cid) {
        const bytes = blocks(account.did, cid);
        if (bytes !== undefined && !cidMatchesBytes(parseCid(cid), bytes)) throw new Error(`block ${cid} does not match its CID (the bytes are corrupt)`);
        return bytes;
      },
    };
    let records = 0;
    try {
      const commit = await verifyCommitBlock(source.get(root.cid), parseCid(root.cid), { did: account.did, didKey: account.signingKeyDid });
      if (commit.rev !== root.rev) return fail(name, `the head commit has rev ${commit.rev}, the stored root ${root.rev}`, fix);
      if (cidToString(commit.data) !== root.data) return fail(name, `the head commit's MST root ${cidToString(commit.data)} is not the stored one, ${root.data}`, fix);
      for (const block of verifiedTree(source, commit.data)) if (block.kind === 'record') records++;
    } catch (err) {
      return fail(name, `does not verify: ${(err as Error).message}`, fix);
    }
    return pass(name, `commit ${root.cid} (rev ${root.rev}) signed by the account's key, ${records} record${records === 1 ? '' : 's'} in a complete tree`);
  } finally {
    db.exec('COMMIT');
  }
}
