// preparedQuery: SQL compiled once per database and plugin list, run with new values each time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { CamelCasePlugin, Kysely, SqliteDialect, sql } from 'kysely';
import { preparedQuery } from '../../src/db/prepared.js';
import { defer } from '../helpers.js';

// written in camelCase: only CamelCasePlugin turns the names into the table's snake_case columns
const byId = preparedQuery(['id'] as const, (db, param) =>
  (db as unknown as Kysely<{ things: { thingId: number; thingName: string } }>)
    .selectFrom('things')
    .select(['thingId', 'thingName'])
    .where('thingId', '=', param.id),
);
const run = (db: unknown, id: number) => byId(db as never, { id });

test("a prepared query answers with each call's values, in a transaction too, with SQL compiled per plugin list", async (t) => {
  const db = new Kysely<object>({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
  defer(t, () => db.destroy());
  await sql`create table things (thing_id integer, thing_name text)`.execute(db);
  await sql`insert into things values (1, 'one'), (2, 'two')`.execute(db);
  const camel = db.withPlugin(new CamelCasePlugin());

  assert.deepEqual(await run(camel, 1), [{ thingId: 1, thingName: 'one' }]);
  assert.deepEqual(await run(camel, 2), [{ thingId: 2, thingName: 'two' }]);
  await camel.transaction().execute(async (trx) => {
    assert.deepEqual(await run(trx, 2), [{ thingId: 2, thingName: 'two' }], 'a transaction shares its plugins');
  });
  // without the plugin the SQL is compiled anew (and names the camelCase column, which is not there)
  await assert.rejects(run(db, 1), /no such column: "thingId"/);
  // a new plugin instance each time (more lists than are kept): every call still right
  for (let i = 0; i < 20; i++)
    assert.deepEqual(await run(db.withPlugin(new CamelCasePlugin()), 2), [{ thingId: 2, thingName: 'two' }]);
  assert.deepEqual(await run(camel, 1), [{ thingId: 1, thingName: 'one' }]);
});
