// SQLITE_SYNCHRONOUS: what the README promises of a commit is what the database connection is set to.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { build, usingPostgres } from '../helpers.js';

/** PRAGMA synchronous as SQLite reports it: 1 NORMAL, 2 FULL. */
async function synchronousOf(app: Awaited<ReturnType<typeof build>>): Promise<number> {
  const { rows } = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(app.chute.db);
  return Number(rows[0]?.synchronous);
}

describe('SQLite durability setting', {
  skip: usingPostgres && 'SQLite only (PostgreSQL keeps its own synchronous_commit)',
}, () => {
  test('by default a commit is in the WAL when it returns (synchronous NORMAL)', async (t) => {
    const app = await build(t);
    assert.equal(await synchronousOf(app), 1);
  });

  test('SQLITE_SYNCHRONOUS=full syncs every commit (synchronous FULL)', async (t) => {
    const app = await build(t, { env: { SQLITE_SYNCHRONOUS: 'full' } });
    assert.equal(await synchronousOf(app), 2);
  });
});
