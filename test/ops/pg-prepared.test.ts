// PostgreSQL connections prepare the hot statements once (src/db/pg-prepared.ts): what users rely
// on is that the statements are still right when another process changes a table under them (a
// rolling upgrade's migration), and that DATABASE_PREPARED_STATEMENTS=false turns it off (a pooler
// that cannot keep them).
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { sql } from 'kysely';
import { moveState } from '../../src/core/files/lifecycle.js';
import { findFileById, insertFile } from '../../src/core/files/repository.js';
import { createDatabase, type Db } from '../../src/db/index.js';
import { lockAcquire, lockHolder, lockOwner, lockRelease } from '../../src/db/locks.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { nowIso } from '../../src/db/normalise.js';
import { defer, freshDatabase, usingPostgres } from '../helpers.js';

async function database(t: TestContext, options: { preparedStatements?: boolean } = {}) {
  const url = await freshDatabase(t);
  const db = createDatabase(url, options);
  defer(t, () => db.destroy());
  await migrateToLatest(db);
  const now = nowIso();
  const file = await insertFile(db, {
    file: 'uploads/a.txt',
    original_file_name: 'a.txt',
    file_name: 'a.txt',
    file_type: 'text/plain',
    created_at: now,
    updated_at: now,
  });
  return { url, db, file };
}

/** The names of the statements this connection has prepared. */
const prepared = async (connection: Db) =>
  (await sql<{ name: string }>`select name from pg_prepared_statements`.execute(connection)).rows.map(
    (row) => row.name,
  );

describe('PostgreSQL prepared statements', { skip: !usingPostgres && 'PostgreSQL only' }, () => {
  test('a hot statement is prepared once per connection, and not at all when turned off', async (t) => {
    for (const preparedStatements of [true, false]) {
      const { db, file } = await database(t, { preparedStatements });
      await db.connection().execute(async (connection) => {
        const before = await prepared(connection);
        assert.equal((await findFileById(connection, file.id))?.file_name, 'a.txt');
        assert.equal((await findFileById(connection, file.id))?.file_name, 'a.txt');
        const added = (await prepared(connection)).filter((name) => !before.includes(name));
        if (preparedStatements) assert.match(added.join(), /^chute_[0-9a-f]{32}$/, 'one statement, prepared once');
        else assert.deepEqual([...before, ...added], [], 'none prepared');
      });
    }
  });

  test("a record's state change is prepared too: one statement however many records move", async (t) => {
    const { db, file } = await database(t);
    const other = await insertFile(db, {
      file: 'uploads/b.txt',
      original_file_name: 'b.txt',
      file_name: 'b.txt',
      file_type: 'text/plain',
      created_at: nowIso(),
      updated_at: nowIso(),
    });
    await db.connection().execute(async (connection) => {
      const before = await prepared(connection);
      for (const id of [file.id, other.id]) {
        assert.equal(await moveState(connection, { id, from: ['pending'], to: 'receiving' }), true);
      }
      const added = (await prepared(connection)).filter((name) => !before.includes(name));
      assert.match(added.join(), /^chute_[0-9a-f]{32}$/);
    });
  });

  test("a file lock's take and release are prepared: two statements however many locks", async (t) => {
    const { db } = await database(t);
    await db.connection().execute(async (connection) => {
      const before = await prepared(connection);
      for (const name of ['file:1', 'file:2', 'file:1']) {
        const owner = lockOwner();
        assert.equal(await lockAcquire(connection, { name, owner, ttlSeconds: 60 }), true);
        await lockRelease(connection, { name, owner });
      }
      assert.equal(await lockHolder(connection, 'file:1'), null, 'released');
      const added = (await prepared(connection)).filter((name) => !before.includes(name));
      assert.equal(added.length, 2, added.join());
    });
  });

  test('after another connection adds a column to the table a prepared statement returns, it still answers', async (t) => {
    const { url, db, file } = await database(t);
    const other = createDatabase(url, { preparedStatements: false });
    defer(t, () => other.destroy());
    await db.connection().execute(async (connection) => {
      assert.equal((await findFileById(connection, file.id))?.id, file.id);
      await sql`alter table chute_files add column added_later text`.execute(other);
      assert.equal((await findFileById(connection, file.id))?.id, file.id, 'the same connection, after the change');
      assert.equal((await findFileById(connection, file.id))?.id, file.id, 'and again');
    });
  });
});
