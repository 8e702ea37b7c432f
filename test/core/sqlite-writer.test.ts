// SQLite's writer thread (src/db/sqlite-writer.ts): the writes that queue up while it is busy
// commit in one transaction. What callers rely on: each write is committed before its caller hears
// of it, a failing write fails alone, fewer pages reach the log than when each commits on its own,
// a transaction is all or nothing and others wait for it, and reads see every answered write.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { AnyDb } from '../../src/db/any-db.js';
import { createDatabase } from '../../src/db/index.js';
import { defer } from '../helpers.js';

/** A SQLite file with one table, the log never checkpointed (its size counts the pages written). */
async function database(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'chute-writer-'));
  const path = join(dir, 'db.sqlite');
  const db = createDatabase(`sqlite:${path}`, { backgroundCheckpoints: false }) as unknown as AnyDb;
  await sql`pragma wal_autocheckpoint = 0`.execute(db);
  await sql`create table t (id integer primary key, k text not null unique, v text not null)`.execute(db);
  await sql`create index t_v on t (v)`.execute(db);
  const reader = new SQLite(path, { readonly: true });
  defer(t, async () => {
    reader.close();
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  const logBytes = () => statSync(`${path}-wal`).size;
  const committed = (k: string) => reader.prepare('select count(*) as n from t where k = ?').get(k) as { n: number };
  return { db, logBytes, committed: (k: string) => committed(k).n === 1 };
}

const insert = (db: AnyDb, k: string) =>
  db
    .insertInto('t')
    .values({ k, v: `value of ${k}` })
    .returning('id')
    .executeTakeFirstOrThrow();

const read = async (db: AnyDb, k: string) =>
  (await db.selectFrom('t').select('v').where('k', '=', k).executeTakeFirst())?.v;

/**
 * Sends the writes `send` makes while a transaction holds the writer, so that they queue up and
 * reach it together once it ends (a group as under load, where the writer is always busy).
 */
async function queued<T>(db: AnyDb, send: () => Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  let sent: Promise<PromiseSettledResult<T>[]> = Promise.resolve([]);
  await db.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx); // the writer is in the transaction
    sent = Promise.allSettled(send());
    await setTimeout(20); // the writes are on their way, ahead of the COMMIT
  });
  return sent;
}

describe('SQLite writer thread', () => {
  test('concurrent writes commit together: every one is there, and far fewer pages reach the log than one by one', async (t) => {
    const { db, logBytes, committed } = await database(t);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    let before = logBytes();
    for (const k of keys) await insert(db, `alone-${k}`);
    const alone = logBytes() - before;
    before = logBytes();
    const rows = (await queued(db, () => keys.map((k) => insert(db, k)))).map((result) => {
      assert.equal(result.status, 'fulfilled');
      return (result as PromiseFulfilledResult<{ id: number }>).value;
    });
    const together = logBytes() - before;
    t.diagnostic(`log grew ${alone} bytes one by one, ${together} together`);
    assert.equal(new Set(rows.map((row) => row.id)).size, keys.length, 'each write has its own row');
    for (const k of keys) assert.ok(committed(k) && committed(`alone-${k}`), k);
    assert.ok(together * 4 <= alone, `together ${together} bytes against ${alone} one by one`);
  });

  test('a statement other than an INSERT, UPDATE or DELETE runs on its own, outside the group', async (t) => {
    const { db, committed } = await database(t);
    // SQLite ignores `foreign_keys` inside a transaction: in a group it would do nothing
    const results = await queued<unknown>(db, () => [
      insert(db, 'a'),
      sql`pragma foreign_keys = off`.execute(db),
      insert(db, 'b'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled'],
    );
    const { rows } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
    assert.equal(rows[0]?.foreign_keys, 0);
    assert.ok(committed('a') && committed('b'));
  });

  test('a caller hears of its write only once another connection can read it', async (t) => {
    const { db, committed } = await database(t);
    const seen = await Promise.all(['a', 'b', 'c', 'd'].map((k) => insert(db, k).then(() => committed(k))));
    assert.deepEqual(seen, [true, true, true, true]);
  });

  test('a write that fails fails alone: its caller gets the error, the others are committed', async (t) => {
    const { db, committed } = await database(t);
    await insert(db, 'taken');
    const results = await queued(db, () => ['x', 'taken', 'y', 'z'].map((k) => insert(db, k)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed: t\.k/);
    for (const k of ['x', 'y', 'z']) assert.ok(committed(k), k);
  });

  test("a read on the caller's thread sees every write answered before it", async (t) => {
    const { db } = await database(t);
    for (let i = 0; i < 50; i++) {
      await insert(db, `k${i}`);
      assert.equal(await read(db, `k${i}`), `value of k${i}`);
    }
  });

  test('a transaction is all or nothing; writes sent while it is open wait for it and then commit', async (t) => {
    const { db, committed } = await database(t);
    let outside: Promise<unknown> = Promise.resolve();
    await db.transaction().execute(async (trx) => {
      await insert(trx, 'in-1');
      outside = insert(db, 'outside');
      await setTimeout(20);
      assert.equal(committed('outside'), false, 'a write from outside went in while the transaction was open');
      assert.equal(await read(trx, 'in-1'), 'value of in-1', 'the transaction reads its own write');
      assert.equal(await read(db, 'in-1'), undefined, 'a read outside sees only what is committed');
      await insert(trx, 'in-2');
    });
    await outside;
    for (const k of ['in-1', 'in-2', 'outside']) assert.ok(committed(k), k);
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await insert(trx, 'doomed');
        await insert(trx, 'in-1'); // taken: the transaction fails
      }),
      /UNIQUE constraint failed/,
    );
    assert.equal(committed('doomed'), false);
  });

  test("the error of a failed write is SQLite's own, with its code", async (t) => {
    const { db } = await database(t);
    await insert(db, 'once');
    const error = await insert(db, 'once').catch((caught: unknown) => caught);
    assert.equal((error as { code?: string }).code, 'SQLITE_CONSTRAINT_UNIQUE');
    assert.ok(error instanceof SQLite.SqliteError);
  });

  test('inside a transaction a write is part of it: rolled back with it, not committed on its own', async (t) => {
    const { db, committed } = await database(t);
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await insert(trx, 'inside');
        throw new Error('the transaction fails');
      }),
      /the transaction fails/,
    );
    assert.equal(committed('inside'), false);
  });
});
