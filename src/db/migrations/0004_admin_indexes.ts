import { sql, type Kysely } from 'kysely';

// The admin file list sorts by any column and pages by offset: each sortable column gets an index
// ending in id (the tie-breaker), so a page is read off the index instead of sorting the table.
// The page's ids come from the index alone (src/core/files/admin.ts), which keeps deep offsets
// cheap. uploaded_by (uploaded_by, id) and file_name (unique) have theirs already.
const COLUMN_INDEXES: Array<[name: string, column: string]> = [
  ['files_original_file_name_id', 'original_file_name'],
  ['files_file_type_id', 'file_type'],
  ['files_file_size_id', 'file_size'],
  ['files_created_at_id', 'created_at'],
  ['files_upload_finished_at_id', 'upload_finished_at'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, column] of COLUMN_INDEXES) {
    await db.schema.createIndex(name).on('files').columns([column, 'id']).execute();
  }
  // "valid" is upload_finished_at IS NOT NULL: sorting by it needs the expression itself indexed
  await db.schema.createIndex('files_is_valid_id').on('files').expression(sql`(upload_finished_at is not null), id`).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('files_is_valid_id').execute();
  for (const [name] of [...COLUMN_INDEXES].reverse()) await db.schema.dropIndex(name).execute();
}
