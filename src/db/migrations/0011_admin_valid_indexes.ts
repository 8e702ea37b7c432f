import { sql, type Kysely, type SqlBool } from 'kysely';
import { dialectOf } from '../dialect.js';
import * as fullIndexes from './0004_admin_indexes.js';

// SQLite: the admin list's sort indexes (0004) cost every start: a new record went into all seven,
// and with the table's own five that was a dozen b-trees per insert (on the bench: start 1.25x at
// c=10 and 1.56x at c=100 with this, side by side). Now they hold valid files only (partial
// indexes), so a start's pending record enters none of them; it enters them once it is finished,
// in the UPDATE that makes it valid, which already rewrote four of the old ones. The list sorts
// the valid files off these indexes and merges in the pending ones, which the cleanup keeps few
// where it runs (src/core/files/admin.ts). Validity is a constant among the files of one state, so its sort
// needs no index of its own.
// PostgreSQL keeps 0004's full indexes: its planner did not read partial ones under a UNION ALL
// (it sorted the whole table: a first page by name took 37 ms against 0.1 ms, measured with
// 100,000 files), and its start meets its target with them.
//
// The condition is written `(upload_finished_at is not null) = 1`: SQLite's planner, without
// statistics, takes a bare `upload_finished_at is not null` for a narrow range of any index that
// starts with that column and reads rows off it; a comparison with 1 is no column's range, so the
// sort's own index is used (the list writes the condition the same way, as a partial index needs).
const VALID = sql<SqlBool>`(upload_finished_at is not null) = 1`;
const PARTIAL: Array<[name: string, columns: string[]]> = [
  // also covers the name search (original or generated name), so a search reads this index, not the table
  ['chute_files_valid_original_file_name', ['original_file_name', 'file_name']],
  ['chute_files_valid_file_type', ['file_type', 'id']],
  ['chute_files_valid_file_size', ['file_size', 'id']],
  ['chute_files_valid_created_at', ['created_at', 'id']],
  ['chute_files_valid_upload_finished_at', ['upload_finished_at', 'id']],
  // SQLite keeps rows in the id b-tree itself: paging deep by id reads only this
  ['chute_files_valid_id', ['id']],
];

export async function up(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== 'sqlite') return;
  await fullIndexes.down(db);
  for (const [name, columns] of PARTIAL)
    await db.schema.createIndex(name).on('chute_files').columns(columns).where(VALID).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) !== 'sqlite') return;
  for (const [name] of PARTIAL) await db.schema.dropIndex(name).execute();
  await fullIndexes.up(db);
}
