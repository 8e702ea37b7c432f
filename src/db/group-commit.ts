import type { AnyDb } from './any-db.js';
import { dialectOf } from './dialect.js';

type Write = {
  run: (db: AnyDb) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

/** The writes waiting for the next group commit, per database (Kysely instance). */
const waiting = new WeakMap<AnyDb, Write[]>();

/**
 * Runs one write statement; on SQLite, the writes that come in during one turn of the event loop
 * commit together, in one transaction (group commit). A commit appends every page it changed to the
 * log (~15 µs a page here), and the writes of concurrent requests share many of theirs: the last
 * pages of the table and of its indexes on ids and times, a user's rate-limit row. Each caller is
 * answered once its write is committed, so what an answer promises is as durable as before. A write
 * that fails fails alone: the others are committed without it.
 *
 * `run` must be one statement with its values and nothing else (it may run twice: see `commit`).
 * Inside a transaction, and on PostgreSQL (whose server commits concurrent transactions in groups
 * itself), it runs as it is.
 */
export function groupCommit<D extends AnyDb, T>(db: D, run: (db: D) => Promise<T>): Promise<T> {
  if (db.isTransaction || dialectOf(db) === 'postgres') return run(db);
  return new Promise<T>((resolve, reject) => {
    let writes = waiting.get(db);
    if (!writes) {
      waiting.set(db, (writes = []));
      // after the I/O of this turn: the requests it brought in add their writes first
      setImmediate(() => {
        waiting.delete(db);
        void commit(db, writes!);
      });
    }
    writes.push({ run: run as Write['run'], resolve: resolve as Write['resolve'], reject });
  });
}

/**
 * Commits `writes` in one transaction. When one fails, the transaction is rolled back (an error
 * such as a full disk can end SQLite's transaction, after which later statements would commit on
 * their own), its caller gets the error, and the others run again in a new one.
 */
async function commit(db: AnyDb, writes: Write[]): Promise<void> {
  const results: unknown[] = [];
  let failed = -1;
  try {
    await db.transaction().execute(async (trx) => {
      for (const [index, write] of writes.entries()) {
        failed = index;
        results.push(await write.run(trx));
      }
      failed = -1;
    });
  } catch (error) {
    if (failed === -1) {
      // BEGIN or COMMIT failed: none of it is committed
      for (const write of writes) write.reject(error);
      return;
    }
    writes[failed]!.reject(error);
    const others = writes.filter((_, index) => index !== failed);
    if (others.length) await commit(db, others);
    return;
  }
  for (const [index, write] of writes.entries()) write.resolve(results[index]);
}
