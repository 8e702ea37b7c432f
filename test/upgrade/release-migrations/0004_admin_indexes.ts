import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../../src/db/dialect.js';

// The admin file list (src/core/files/admin.ts) sorts by any column and pages by offset. Each
// sortable column gets an index ending in a unique tie-breaker, so a page's ids are read off an
// index, skipping index entries rather than sorting or reading whole rows. Measured with 100,000
// files by `npm run bench:admin`. Already there: (uploaded_by, id), file_name (unique),
// users.email (unique), used by the uploader sort.
const INDEXES: Array<[name: string, columns: string[]]> = [
  // also covers the name search (original or generated name), so a search reads this index, not the table
  ['files_original_file_name_file_name', ['original_file_name', 'file_name']],
  ['files_file_type_id', ['file_type', 'id']],
  ['files_file_size_id', ['file_size', 'id']],
  ['files_created_at_id', ['created_at', 'id']],
  ['files_upload_finished_at_id', ['upload_finished_at', 'id']],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, columns] of INDEXES) await db.schema.createIndex(name).on('files').columns(columns).execute();
  // "valid" is upload_finished_at IS NOT NULL: sorting by it needs the expression itself indexed
  await db.schema
    .createIndex('files_is_valid_id')
    .on('files')
    .expression(sql`(upload_finished_at is not null), id`)
    .execute();
  // SQLite keeps rows in the id b-tree itself: paging deep by id would read whole rows. This
  // index of ids alone is small; PostgreSQL's primary key index is that already.
  if (dialectOf(db) === 'sqlite') await db.schema.createIndex('files_id').on('files').column('id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  if (dialectOf(db) === 'sqlite') await db.schema.dropIndex('files_id').execute();
  await db.schema.dropIndex('files_is_valid_id').execute();
  for (const [name] of [...INDEXES].reverse()) await db.schema.dropIndex(name).execute();
}
