// A file record's states (src/core/files/lifecycle.ts): moves outside the table are refused, and of
// two concurrent moves from the same state exactly one wins, whichever connection it comes from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Migrator } from 'kysely';
import { moveState, TRANSITIONS } from '../../src/core/files/lifecycle.js';
import { findFileById, insertFile } from '../../src/core/files/repository.js';
import { createDatabase } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { nowIso } from '../../src/db/normalise.js';
import { defer, freshDatabase } from '../helpers.js';
import { releaseMigrations } from '../upgrade/release-migrations/index.js';
import { twoConnections } from './two-connections.js';

const pendingRecord = async (db: ReturnType<typeof createDatabase>) => {
  const now = nowIso();
  return insertFile(db, {
    file: `uploads/${Math.random()}.txt`,
    original_file_name: 'a.txt',
    file_name: `${Math.random()}.txt`,
    file_type: 'text/plain',
    created_at: now,
    updated_at: now,
  });
};

describe('file lifecycle', () => {
  test('a new record is pending; a move the table does not allow is refused and changes nothing', async (t) => {
    const [db] = await twoConnections(t);
    const file = await pendingRecord(db);
    assert.equal(file.state, 'pending');
    assert.deepEqual(TRANSITIONS.valid, [], 'valid is final');
    await assert.rejects(
      moveState(db, { id: file.id, from: ['pending'], to: 'received' }),
      /cannot move from pending to received/,
    );
    await assert.rejects(
      moveState(db, { id: file.id, from: ['valid'], to: 'pending' }),
      /cannot move from valid to pending/,
    );
    assert.equal((await findFileById(db, file.id))!.state, 'pending');
    assert.equal(
      await moveState(db, { id: file.id, from: ['received'], to: 'valid' }),
      false,
      'not in that state: no move',
    );
    assert.equal((await findFileById(db, file.id))!.state, 'pending');
  });

  test('two concurrent moves from the same state: one wins, the other is told it lost', async (t) => {
    const [db1, db2] = await twoConnections(t);
    for (let round = 0; round < 10; round++) {
      const file = await pendingRecord(db1);
      const outcomes = await Promise.all([
        moveState(db1, { id: file.id, from: ['pending'], to: 'receiving' }),
        moveState(db2, { id: file.id, from: ['pending'], to: 'completing' }),
      ]);
      assert.equal(outcomes.filter(Boolean).length, 1, `round ${round}: ${outcomes}`);
      assert.equal((await findFileById(db1, file.id))!.state, outcomes[0] ? 'receiving' : 'completing');
    }
  });
});

test('migration 0006 gives existing records their state: finished is valid, bytes received is received, a multipart complete cut off is pending', async (t) => {
  const db = createDatabase(await freshDatabase(t));
  defer(t, () => db.destroy());
  // a database of the release with migrations up to 0005 (unprefixed tables, kysely_migration)
  const { '0006_file_state': _0006, ...before } = releaseMigrations;
  const result = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
  assert.equal(result.error, undefined);
  const now = nowIso();
  const row = (
    name: string,
    values: { upload_finished_at?: string; upload_received_at?: string; upload_method?: string },
  ) =>
    db
      .withTables<{ files: Record<string, unknown> }>()
      .insertInto('files')
      .values({
        file: `uploads/${name}`,
        original_file_name: name,
        file_name: name,
        file_type: 'text/plain',
        created_at: now,
        updated_at: now,
        ...values,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
  const valid = await row('valid.txt', { upload_finished_at: now, upload_received_at: now });
  const received = await row('received.txt', { upload_received_at: now });
  const pending = await row('pending.txt', {});
  // upload_received_at was a complete's claim on a multipart record: a repeat must be able to complete it
  const cutOffComplete = await row('parts.txt', { upload_received_at: now, upload_method: 'multipart' });
  await migrateToLatest(db);
  const stateOf = async ({ id }: { id: unknown }) => (await findFileById(db, Number(id)))!.state;
  assert.equal(await stateOf(valid), 'valid');
  assert.equal(await stateOf(received), 'received');
  assert.equal(await stateOf(pending), 'pending');
  assert.equal(await stateOf(cutOffComplete), 'pending');
});
