import type { Kysely, Transaction } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import { preparedQuery } from '../../db/prepared.js';
import { nowIso, toDate, toNullableDate, toNullableNumber, toNumber } from '../../db/normalise.js';
import type { Database, FileRow, FileState, NewFileRow, UploadMethod } from '../../db/schema.js';
import { moveState } from './lifecycle.js';

export type Executor = Kysely<Database> | Transaction<Database>;

export interface FileRecord {
  id: number;
  file: string;
  original_file_name: string;
  file_name: string;
  file_type: string;
  file_size: number | null;
  /** the uploader's id in the app's user system (Actor.id) */
  uploaded_by: string | null;
  upload_finished_at: Date | null;
  upload_received_at: Date | null;
  upload_method: UploadMethod;
  state: FileState;
  upload_id: string | null;
  sha256: string | null;
  /** epoch ms: the file.finished event this file is owed, not yet in the webhook outbox */
  pending_event_at: number | null;
  created_at: Date;
  updated_at: Date;
}

/** What a change that makes a file valid writes with it: the event it owes, when webhooks are on. */
export type EventMark = { pending_event_at?: number };

export const toFileRecord = (row: FileRow): FileRecord => ({
  id: toNumber(row.id),
  file: row.file,
  original_file_name: row.original_file_name,
  file_name: row.file_name,
  file_type: row.file_type,
  file_size: toNullableNumber(row.file_size),
  uploaded_by: row.uploaded_by,
  upload_finished_at: toNullableDate(row.upload_finished_at),
  upload_received_at: toNullableDate(row.upload_received_at),
  upload_method: row.upload_method,
  state: row.state,
  upload_id: row.upload_id,
  sha256: row.sha256,
  pending_event_at: toNullableNumber(row.pending_event_at),
  created_at: toDate(row.created_at),
  updated_at: toDate(row.updated_at),
});

// Every column is bound (absent ones as their defaults), so one compiled INSERT serves all callers.
const INSERT_COLUMNS = [
  'file',
  'original_file_name',
  'file_name',
  'file_type',
  'file_size',
  'uploaded_by',
  'upload_finished_at',
  'upload_received_at',
  'upload_method',
  'state',
  'upload_id',
  'sha256',
  'pending_event_at',
  'created_at',
  'updated_at',
] as const;
const insertFileQuery = preparedQuery(INSERT_COLUMNS, (db: Kysely<Database>, param) =>
  db.insertInto('chute_files').values(param).returningAll(),
);

export async function insertFile(db: Executor, values: NewFileRow): Promise<FileRecord> {
  const [row] = await insertFileQuery(db, {
    ...values,
    file_size: values.file_size ?? null,
    uploaded_by: values.uploaded_by ?? null,
    upload_finished_at: values.upload_finished_at ?? null,
    upload_received_at: values.upload_received_at ?? null,
    upload_method: values.upload_method ?? 'post',
    state: values.state ?? 'pending',
    upload_id: values.upload_id ?? null,
    sha256: values.sha256 ?? null,
    pending_event_at: values.pending_event_at ?? null,
  });
  if (!row) throw new Error('INSERT INTO chute_files returned no row');
  return toFileRecord(row);
}

/** Ids are int4 in PostgreSQL: a larger number names no row (and must not reach the driver). */
export const MAX_ID = 2_147_483_647;

const findFileByIdQuery = preparedQuery(['id'], (db: Kysely<Database>, param) =>
  db.selectFrom('chute_files').selectAll().where('id', '=', param.id),
);

export async function findFileById(db: Executor, id: number): Promise<FileRecord | undefined> {
  if (!Number.isSafeInteger(id) || id < 1 || id > MAX_ID) return undefined;
  const [row] = await findFileByIdQuery(db, { id });
  return row && toFileRecord(row);
}

export async function findFileByKey(db: Executor, key: string): Promise<FileRecord | undefined> {
  const row = await db.selectFrom('chute_files').selectAll().where('file', '=', key).executeTakeFirst();
  return row && toFileRecord(row);
}

/** A record and the size of its stored object. */
type StoredSize = { id: number; size: number };

/**
 * Marks a pending (or received) record valid: one UPDATE; only the first of concurrent finishes
 * changes the row. Returns when it did, or null when the record was in another state (or gone).
 */
export async function markUploadFinished(
  db: Executor,
  { id, size, mark = {} }: StoredSize & { mark?: EventMark },
): Promise<Date | null> {
  const now = new Date();
  const moved = await moveState(db, {
    id,
    from: ['pending', 'received'],
    to: 'valid',
    set: { upload_finished_at: nowIso(now), file_size: size, updated_at: nowIso(now), ...mark },
  });
  return moved ? now : null;
}

/**
 * Unmarks up to `limit` files (or the one with `id`) that owe a file.finished event, oldest first,
 * and returns them (call it in the transaction that writes their events). One statement, as the outbox's claim: on
 * PostgreSQL concurrent takers skip each other's rows; SQLite runs one write at a time.
 */
export async function takeFilesOwingEvents(
  db: Executor,
  { limit, id }: { limit: number; id?: number | undefined },
): Promise<FileRecord[]> {
  const pg = dialectOf(db) === 'postgres';
  const rows = await db
    // materialized: run once (see claimDueDeliveries)
    .with(
      (cte) => cte('owing').materialized(),
      (q) => {
        let owing = q
          .selectFrom('chute_files')
          .select('id')
          .where('pending_event_at', 'is not', null)
          .orderBy('pending_event_at')
          .orderBy('id')
          .limit(limit);
        if (id !== undefined) owing = owing.where('id', '=', id);
        return pg ? owing.forUpdate().skipLocked() : owing;
      },
    )
    .updateTable('chute_files')
    .set({ pending_event_at: null })
    .where('id', 'in', (eb) => eb.selectFrom('owing').select('owing.id'))
    .where('pending_event_at', 'is not', null)
    .returningAll()
    .execute();
  return rows.map(toFileRecord).sort((a, b) => a.id - b.id);
}

/** Whether any file still owes its event: a read of the partial index, so an idle round writes nothing. */
export async function anyFileOwesEvent(db: Executor): Promise<boolean> {
  const row = await db
    .selectFrom('chute_files')
    .select('id')
    .where('pending_event_at', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The row as it was when this DELETE removed it; undefined when it was gone already (another delete won). */
export async function deleteFileRow(db: Executor, id: number): Promise<FileRecord | undefined> {
  const row = await db.deleteFrom('chute_files').where('id', '=', id).returningAll().executeTakeFirst();
  return row && toFileRecord(row);
}

/** Never-finished records created before `before` that have not received bytes since then either. */
export async function listStalePendingFiles(
  db: Executor,
  { before, afterId, limit }: { before: Date; afterId: number; limit: number },
): Promise<FileRecord[]> {
  const cutoff = nowIso(before);
  const rows = await db
    .selectFrom('chute_files')
    .selectAll()
    .where('id', '>', afterId)
    .where('upload_finished_at', 'is', null)
    .where('created_at', '<', cutoff)
    .where((eb) => eb.or([eb('upload_received_at', 'is', null), eb('upload_received_at', '<', cutoff)]))
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toFileRecord);
}

/** Deletes a record only while it is still pending; false when it was finished (or removed) meanwhile. */
export async function deletePendingFileRow(db: Executor, id: number): Promise<boolean> {
  const result = await db
    .deleteFrom('chute_files')
    .where('id', '=', id)
    .where('upload_finished_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export interface FileListQuery {
  /** null lists everyone's files (staff) */
  uploadedBy: string | null;
  limit: number;
  offset: number;
}

export async function listFiles(db: Executor, query: FileListQuery): Promise<{ count: number; files: FileRecord[] }> {
  let base = db.selectFrom('chute_files');
  if (query.uploadedBy !== null) base = base.where('uploaded_by', '=', query.uploadedBy);
  const [rows, total] = await Promise.all([
    base.selectAll().orderBy('id', 'desc').limit(query.limit).offset(query.offset).execute(),
    base.select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { count: toNumber(total.count as number | string), files: rows.map(toFileRecord) };
}
