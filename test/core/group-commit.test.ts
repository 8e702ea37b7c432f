// Group commit (src/db/group-commit.ts): on SQLite the writes of one turn of the event loop share
// a transaction. What callers rely on: each write is committed before its caller hears of it, a
// failing write fails alone, and fewer pages reach the log than when each commits on its own.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { AnyDb } from '../../src/db/any-db.js';
import { groupCommit } from '../../src/db/group-commit.js';
import { createDatabase } from '../../src/db/index.js';
import { defer } from '../helpers.js';

/** A SQLite file with one table, the log never checkpointed (its size counts the pages written). */
async function database(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'chute-group-'));
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
  groupCommit(db, (db) =>
    db
      .insertInto('t')
      .values({ k, v: `value of ${k}` })
      .returning('id')
      .executeTakeFirstOrThrow(),
  );

describe('group commit (SQLite)', () => {
  test('writes of one turn commit together: every one is there, and far fewer pages reach the log than one by one', async (t) => {
    const { db, logBytes, committed } = await database(t);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    let before = logBytes();
    for (const k of keys) await insert(db, `alone-${k}`);
    const alone = logBytes() - before;
    before = logBytes();
    const rows = await Promise.all(keys.map((k) => insert(db, k)));
    const together = logBytes() - before;
    t.diagnostic(`log grew ${alone} bytes one by one, ${together} together`);
    assert.equal(new Set(rows.map((row) => row.id)).size, keys.length, 'each write has its own row');
    for (const k of keys) assert.ok(committed(k) && committed(`alone-${k}`), k);
    assert.ok(together * 4 <= alone, `together ${together} bytes against ${alone} one by one`);
  });

  test('a caller hears of its write only once another connection can read it', async (t) => {
    const { db, committed } = await database(t);
    const seen = await Promise.all(['a', 'b', 'c', 'd'].map((k) => insert(db, k).then(() => committed(k))));
    assert.deepEqual(seen, [true, true, true, true]);
  });

  test('a write that fails fails alone: its caller gets the error, the others are committed', async (t) => {
    const { db, committed } = await database(t);
    await insert(db, 'taken');
    const results = await Promise.allSettled(['x', 'taken', 'y', 'z'].map((k) => insert(db, k)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.match(String((results[1] as PromiseRejectedResult).reason), /UNIQUE constraint failed: t\.k/);
    for (const k of ['x', 'y', 'z']) assert.ok(committed(k), k);
  });

  test('what a failing write did before it failed is not committed; the writes beside it are', async (t) => {
    const { db, committed } = await database(t);
    const broken = groupCommit(db, async (db) => {
      await db.insertInto('t').values({ k: 'half', v: 'half' }).execute();
      throw new Error('failed after its statement');
    });
    const results = await Promise.allSettled([insert(db, 'before'), broken, insert(db, 'after')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(committed('half'), false);
    assert.ok(committed('before') && committed('after'));
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
