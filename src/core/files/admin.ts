// What staff do with everyone's files (the admin): a list that searches, filters, sorts by any
// column and pages, and the writes the article's Django admin does through FileStandardUploadService
// (create and update through the server), plus deletes in bulk. Reads and writes reuse the public
// services' building blocks; nothing here knows about HTTP.
import { isValid } from './lifecycle.js';
import type { Readable } from 'node:stream';
import { sql, type AliasedExpression, type Expression, type SqlBool } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import { nowIso, toNumber } from '../../db/normalise.js';
import type { FileRow } from '../../db/schema.js';
import { AppError, isAppError, notFound } from '../../errors.js';
import { type Actor, assertStaff, type FileRequest } from '../actor.js';
import { settlePendingPut } from '../multipart/services.js';
import { filesCleanupPending, type CleanupReport } from './cleanup.js';
import { changeAndAnnounce } from './hooks.js';
import { serverUploadNames } from './new-record.js';
import { type EventMark, findFileById, toFileRecord, type Executor, type FileRecord } from './repository.js';
import { fileDelete, fileStandardUpload, verifiedBody, type FilesContext } from './services.js';

/** The columns the list sorts by; anything else is refused before it reaches SQL. */
export const ADMIN_FILE_SORTS = [
  'id',
  'original_file_name',
  'file_name',
  'file_type',
  'file_size',
  'uploaded_by',
  'created_at',
  'upload_finished_at',
  'is_valid',
] as const;
export type AdminFileSort = (typeof ADMIN_FILE_SORTS)[number];
export type SortOrder = 'asc' | 'desc';
export type AdminFileStatus = 'valid' | 'pending';

export interface AdminFileQuery {
  /** part of the original or the generated name, case-insensitive (ASCII on SQLite) */
  search?: string | undefined;
  status?: AdminFileStatus | undefined;
  /** an uploader's id (Actor.id) */
  uploadedBy?: string | undefined;
  sort?: AdminFileSort | undefined;
  order?: SortOrder | undefined;
  limit: number;
  offset: number;
}

export interface AdminFileRecord extends FileRecord {
  uploaded_by_email: string | null;
}

/**
 * What the user system (Chute's own, or a host's) tells the admin about uploaders: the core has
 * no users of its own, only the ids files are recorded under.
 */
export interface Uploaders {
  /** the emails of these users; an unknown id is absent */
  emailsOf(userIds: string[]): Promise<Map<string, string>>;
  /** whether a file may be recorded as this user's */
  exists(userId: string): Promise<boolean>;
  /**
   * the sort by uploader: (id, sort_key) rows the list joins to chute_files.uploaded_by, so `id`
   * as the same text (Actor.id); read best off an index on the key
   */
  sortKeys(): AliasedExpression<{ id: string; sort_key: string }, 'uploaders'>;
}

/** The admin's context: the core's, and the uploaders' user system. */
export interface AdminFilesContext extends FilesContext {
  uploaders: Uploaders;
}

// ---------- repository (db first) ----------

/** `%term%` for LIKE with `\` as the escape character, so `_` and `%` in a name match themselves. */
const containsPattern = (term: string): string => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function nameMatches(
  db: Executor,
  column: 'chute_files.original_file_name' | 'chute_files.file_name',
  pattern: string,
): Expression<SqlBool> {
  const operator = dialectOf(db) === 'postgres' ? sql`ilike` : sql`like`;
  return sql<SqlBool>`${sql.ref(column)} ${operator} ${pattern} escape '\\'`;
}

function filteredFiles(db: Executor, query: AdminFileQuery) {
  let base = db.selectFrom('chute_files');
  // on SQLite "valid" is written as the partial indexes' own condition (migration 0011)
  if (query.status === 'valid' && dialectOf(db) === 'sqlite') {
    base = base.where(sql<SqlBool>`(chute_files.upload_finished_at is not null) = 1`);
  } else if (query.status === 'valid') {
    base = base.where('chute_files.upload_finished_at', 'is not', null);
  } else if (query.status === 'pending') {
    base = base.where('chute_files.upload_finished_at', 'is', null);
  }
  if (query.uploadedBy !== undefined) base = base.where('chute_files.uploaded_by', '=', query.uploadedBy);
  const term = query.search?.trim();
  if (term) {
    const pattern = containsPattern(term);
    base = searchesGeneratedName(term)
      ? base.where((eb) =>
          eb.or([
            nameMatches(db, 'chute_files.original_file_name', pattern),
            nameMatches(db, 'chute_files.file_name', pattern),
          ]),
        )
      : base.where(nameMatches(db, 'chute_files.original_file_name', pattern));
  }
  return base;
}

/**
 * Whether a search must look at generated names too. A generated name is 32 hex digits and the
 * original's extension, lower-cased (naming.ts). A term that cannot start inside the hex digits
 * (its first character is not a hex digit or a dot) can only match inside the extension, and
 * then the original name matches as well; a term with any other character (a space, `-`, `_`)
 * matches no generated name at all. Either way the generated names need no second look, which
 * halves the work of a search.
 */
export function searchesGeneratedName(term: string): boolean {
  const lower = term.toLowerCase();
  return /^[0-9a-f.]/.test(lower) && /^[0-9a-z.]+$/.test(lower);
}

/**
 * The ORDER BY of a sort: the column, then a unique tie-breaker, all in the same direction, so
 * that one index serves it (migrations 0004 and 0011). file_name is unique by itself; the original
 * name is tie-broken by the generated one, which its index holds. Among the files of one state
 * validity is a constant, which needs no index. The uploader sort is listUploaderIds'.
 */
function orderTerms(
  sort: Exclude<AdminFileSort, 'uploaded_by'>,
  status: AdminFileStatus | undefined,
): Array<Expression<unknown>> {
  switch (sort) {
    case 'id':
      return [sql.ref('chute_files.id')];
    case 'file_name':
      return [sql.ref('chute_files.file_name')];
    case 'original_file_name':
      return [sql.ref('chute_files.original_file_name'), sql.ref('chute_files.file_name')];
    case 'is_valid':
      return [
        status ? sql.lit(status === 'valid' ? 1 : 0) : sql`(chute_files.upload_finished_at is not null)`,
        sql.ref('chute_files.id'),
      ];
    default:
      return [sql.ref(`chute_files.${sort}`), sql.ref('chute_files.id')];
  }
}

/**
 * Ids of a page in a column's order, read off an index: the offset skips index entries, not rows.
 * On SQLite the sort indexes hold valid files only (migration 0011): the valid files are read off
 * them and the pending ones sorted, and the two merged, as SQLite does for a UNION ALL under one
 * ORDER BY. Pending files are few where the cleanup runs (FILE_CLEANUP_INTERVAL, `chute cleanup`);
 * each one left costs every such page a row read. PostgreSQL's indexes hold every file.
 */
async function listSortedIds(
  db: Executor,
  query: AdminFileQuery,
  {
    sort,
    order,
    limit,
    offset,
  }: { sort: Exclude<AdminFileSort, 'uploaded_by'>; order: SortOrder; limit: number; offset: number },
): Promise<number[]> {
  // A name search by id: SQLite would walk the index of ids and read each row (too big to stay
  // cached) to spare a sort. `+id` is not the bare column, which leaves it the cheaper plan: scan
  // the names index (it holds the ids) and sort the matches.
  const searchOnly = Boolean(query.search?.trim()) && query.uploadedBy === undefined;
  const byIdScan = sort === 'id' && searchOnly && dialectOf(db) === 'sqlite';
  const termsOf = (status: AdminFileStatus | undefined) =>
    byIdScan ? [sql`+chute_files.id`] : orderTerms(sort, status);
  const part = (status: AdminFileStatus | undefined) =>
    filteredFiles(db, { ...query, status }).select([
      'chute_files.id',
      ...termsOf(status).map((term, index) => sql`${term}`.as(`k${index}`)),
    ]);
  // file_name's unique index holds every file
  const whole = query.status !== undefined || sort === 'file_name' || dialectOf(db) === 'postgres';
  let ids = whole ? part(query.status) : part('valid').unionAll(part('pending'));
  // every part names its sort keys k0, k1, ... alike (the same count whatever the state)
  for (const index of termsOf(query.status).keys()) ids = ids.orderBy(sql.ref(`k${index}`), order);
  const rows = await ids.limit(limit).offset(offset).execute();
  return rows.map((row) => toNumber(row.id));
}

/**
 * Ids of a page sorted by the uploader's email. A join sorted by email would sort every file;
 * instead the users are walked in email order (their unique index) and each one's files in id
 * order (chute_files_uploaded_by_id), which needs no sort. Files without an uploader (NULL email) are
 * their own group, placed where the database puts NULLs: first ascending on SQLite, last on
 * PostgreSQL. The page takes what it needs from each group.
 */
async function listUploaderIds(
  db: Executor,
  uploaders: Uploaders,
  query: AdminFileQuery,
  { order, limit, offset, total }: { order: SortOrder; limit: number; offset: number; total: number },
): Promise<number[]> {
  const orphans = await filteredFiles(db, query)
    .where('chute_files.uploaded_by', 'is', null)
    .select((eb) => eb.fn.countAll().as('count'))
    .executeTakeFirstOrThrow();
  const orphanCount = toNumber(orphans.count as number | string);
  const nullsFirst = dialectOf(db) === 'sqlite' ? order === 'asc' : order === 'desc';
  const groups = [
    { size: orphanCount, orphans: true },
    { size: total - orphanCount, orphans: false },
  ];
  if (!nullsFirst) groups.reverse();

  const ids: number[] = [];
  let skip = offset;
  let want = limit;
  for (const group of groups) {
    if (want === 0) break;
    if (skip >= group.size) {
      skip -= group.size;
      continue;
    }
    const take = Math.min(want, group.size - skip);
    const rows = group.orphans
      ? await filteredFiles(db, query)
          .where('chute_files.uploaded_by', 'is', null)
          .select('chute_files.id')
          .orderBy('chute_files.id', order)
          .limit(take)
          .offset(skip)
          .execute()
      : await filteredFiles(db, query)
          .innerJoin(uploaders.sortKeys(), 'uploaders.id', 'chute_files.uploaded_by')
          .select('chute_files.id')
          .orderBy('uploaders.sort_key', order)
          .orderBy('chute_files.id', order)
          .limit(take)
          .offset(skip)
          .execute();
    ids.push(...rows.map((row) => toNumber(row.id)));
    want -= rows.length;
    skip = 0;
  }
  return ids;
}

/**
 * One page of everyone's files and the number of matches. The page's ids come off an index
 * (offset included), then only those rows are read, with their uploader's email.
 */
export async function listAdminFiles(
  db: Executor,
  uploaders: Uploaders,
  query: AdminFileQuery,
): Promise<{ count: number; files: AdminFileRecord[] }> {
  const sort = query.sort ?? 'id';
  const order = query.order ?? 'desc';
  const total = await filteredFiles(db, query)
    .select((eb) => eb.fn.countAll().as('count'))
    .executeTakeFirstOrThrow();
  const count = toNumber(total.count as number | string);
  if (count === 0 || query.offset >= count) return { count, files: [] };

  const page = { order, limit: query.limit, offset: query.offset };
  const ids =
    sort === 'uploaded_by'
      ? await listUploaderIds(db, uploaders, query, { ...page, total: count })
      : await listSortedIds(db, query, { ...page, sort });
  if (ids.length === 0) return { count, files: [] };
  const rows = await db.selectFrom('chute_files').selectAll().where('chute_files.id', 'in', ids).execute();
  const position = new Map(ids.map((id, index) => [id, index]));
  const files = rows
    .map((row) => toFileRecord(row as FileRow))
    .sort((a, b) => position.get(a.id)! - position.get(b.id)!);
  return { count, files: await withUploaderEmails(uploaders, files) };
}

/** The files with their uploaders' emails, asked for once per page. */
export async function withUploaderEmails(uploaders: Uploaders, files: FileRecord[]): Promise<AdminFileRecord[]> {
  const ids = [...new Set(files.flatMap((file) => (file.uploaded_by === null ? [] : [file.uploaded_by])))];
  const emails = ids.length ? await uploaders.emailsOf(ids) : new Map<string, string>();
  return files.map((file) => ({
    ...file,
    uploaded_by_email: file.uploaded_by === null ? null : (emails.get(file.uploaded_by) ?? null),
  }));
}

/**
 * Points a record at a newly stored object. Only while the record still points at `previousKey`:
 * a replace racing another replace (or a delete) changes nothing and reports false.
 */
async function replaceFileObject(
  db: Executor,
  {
    id,
    previousKey,
    key,
    originalFileName,
    fileName,
    fileType,
    size,
    mark,
  }: {
    id: number;
    previousKey: string;
    key: string;
    originalFileName: string;
    fileName: string;
    fileType: string;
    size: number;
    mark: EventMark;
  },
): Promise<boolean> {
  const now = nowIso();
  const result = await db
    .updateTable('chute_files')
    .set({
      file: key,
      original_file_name: originalFileName,
      file_name: fileName,
      file_type: fileType,
      file_size: size,
      upload_method: 'standard',
      upload_id: null,
      sha256: null,
      upload_received_at: now,
      upload_finished_at: now,
      // a replace is a new standard upload under the same id: valid from whatever state it was in
      state: 'valid',
      updated_at: now,
      ...mark,
    })
    .where('id', '=', id)
    .where('file', '=', previousKey)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

// ---------- selectors ----------

export async function adminFileList(
  ctx: AdminFilesContext,
  query: AdminFileQuery,
): Promise<{ count: number; files: AdminFileRecord[] }> {
  // No storage round trips here (unlike fileList): a pending single-PUT upload is settled when
  // its own page is opened, so a page of the list stays one pair of queries.
  return listAdminFiles(ctx.db, ctx.uploaders, query);
}

/** Any file, with its uploader's email; a pending single-PUT upload is settled on the way. */
export async function adminFileGet(ctx: AdminFilesContext, { fileId }: { fileId: number }): Promise<AdminFileRecord> {
  const found = await findFileById(ctx.db, fileId);
  if (!found) throw notFound();
  const file = await settlePendingPut(ctx, found);
  if (!file) throw notFound(); // a single PUT its checks refused, discarded on the way
  return (await withUploaderEmails(ctx.uploaders, [file]))[0]!;
}

// ---------- services ----------

async function assertUserExists(ctx: AdminFilesContext, userId: string): Promise<void> {
  if (!(await ctx.uploaders.exists(userId)))
    throw new AppError('validation_failed', `There is no user with id ${userId}.`, { field: 'uploaded_by' });
}

/**
 * Adds a file through the server, as the article's FileStandardUploadService.create: streamed to
 * the storage, original name and type inferred, valid at once, recorded as `uploadedBy`'s.
 * The uploader is checked before a byte is read; a refused upload leaves neither row nor object.
 */
export async function adminFileCreate(
  ctx: AdminFilesContext,
  {
    uploadedBy,
    body,
    fileName,
    clientType,
    maxSize,
  }: { uploadedBy: string; body: Readable; fileName: string; clientType?: string | null; maxSize: number },
): Promise<AdminFileRecord> {
  await assertUserExists(ctx, uploadedBy);
  const file = await fileStandardUpload(ctx, { uploadedBy, body, fileName, clientType, maxSize });
  return (await withUploaderEmails(ctx.uploaders, [file]))[0]!;
}

/**
 * Replaces a file's bytes, as FileStandardUploadService.update: the new bytes are stored under a
 * new generated name with the type inferred again, the record is pointed at them, and only then
 * is the old object deleted. A refused or failed upload leaves the record and the old object as
 * they were. The uploader and the creation time stay.
 *
 * previousRemoved is false when the old object could not be deleted (storage unreachable at that
 * moment): the replace is done, only an orphan object is left behind.
 */
export async function adminFileReplace(
  ctx: AdminFilesContext,
  {
    fileId,
    body,
    fileName,
    clientType,
    maxSize,
  }: { fileId: number; body: Readable; fileName: string; clientType?: string | null; maxSize: number },
): Promise<{ file: AdminFileRecord; previousRemoved: boolean }> {
  const current = await findFileById(ctx.db, fileId);
  if (!current) throw notFound();
  const { originalFileName, type, generatedName, key } = serverUploadNames(ctx.policy, { fileName, clientType });

  // put() leaves nothing at `key` when it fails (too large, empty, storage down)
  const { size } = await ctx.storage.put({ key, body: verifiedBody(ctx, body, type), contentType: type, maxSize });
  let replaced: boolean;
  try {
    // a new upload under the same id: the host hears of it as of any finished file
    replaced = await changeAndAnnounce(
      ctx,
      'file.finished',
      async (db, mark) => {
        const moved = await replaceFileObject(db, {
          id: current.id,
          previousKey: current.file,
          key,
          originalFileName,
          fileName: generatedName,
          fileType: type,
          size,
          mark,
        });
        const file = moved ? await findFileById(db, current.id) : undefined;
        return { result: moved, file: file ?? null };
      },
      { touches: current.id },
    );
  } catch (error) {
    await ctx.storage.delete(key).catch(() => undefined);
    throw error;
  }
  if (!replaced) {
    await ctx.storage.delete(key).catch(() => undefined);
    if (!(await findFileById(ctx.db, current.id))) throw notFound();
    throw new AppError('conflict', 'The file was replaced by someone else meanwhile. Reload it and try again.');
  }

  let previousRemoved = true;
  try {
    if (current.upload_id !== null && !isValid(current)) {
      await ctx.storage.abortMultipart({ key: current.file, uploadId: current.upload_id });
    }
    await ctx.storage.delete(current.file);
  } catch {
    previousRemoved = false;
  }
  return { file: await adminFileGet(ctx, { fileId: current.id }), previousRemoved };
}

/** Deletes a file: an open multipart upload is aborted, then the object, then the record. */
export async function adminFileDelete(ctx: FilesContext, { actor, fileId }: FileRequest): Promise<void> {
  assertStaff(actor);
  // fileDelete aborts an open multipart upload first
  await fileDelete(ctx, { actor, fileId });
}

export const BULK_DELETE_MAX = 500;

/**
 * Deletes the given files one by one (object, then record). Unknown ids are reported, not fatal.
 * If the storage fails, the run stops there with storage_unavailable, naming what was deleted:
 * every file is either fully deleted or untouched.
 */
export async function adminFilesDelete(
  ctx: FilesContext,
  { actor, fileIds }: { actor: Actor; fileIds: number[] },
): Promise<{ deleted: number[]; notFound: number[] }> {
  const ids = [...new Set(fileIds)];
  if (ids.length > BULK_DELETE_MAX)
    throw new AppError('validation_failed', `At most ${BULK_DELETE_MAX} files can be deleted at once.`);
  const deleted: number[] = [];
  const missing: number[] = [];
  for (const fileId of ids) {
    try {
      await adminFileDelete(ctx, { actor, fileId });
      deleted.push(fileId);
    } catch (error) {
      if (isAppError(error) && error.code === 'not_found') {
        missing.push(fileId);
        continue;
      }
      const reason = isAppError(error) ? error.message : 'The storage could not be reached.';
      // a refusal (a complete at work: conflict) keeps its own code; anything else is the storage
      throw new AppError(
        isAppError(error) && error.status < 500 ? error.code : 'storage_unavailable',
        `${deleted.length} of ${ids.length} files were deleted, then the deletion stopped: ${reason}`,
        { deleted, not_found: missing, failed_id: fileId },
      );
    }
  }
  return { deleted, notFound: missing };
}

/**
 * Deletes every pending (never finished) file created more than `olderThanHours` ago, with
 * whatever its upload left in the storage: the abandoned-upload cleanup with a limit staff choose.
 */
export async function adminFilesDeletePending(
  ctx: FilesContext,
  { olderThanHours, now }: { olderThanHours: number; now?: Date },
): Promise<CleanupReport> {
  if (!Number.isFinite(olderThanHours) || olderThanHours < 0) {
    throw new AppError('validation_failed', 'The age must be a number of hours, 0 or more.', {
      field: 'older_than_hours',
    });
  }
  return filesCleanupPending(ctx, {
    olderThanSeconds: Math.max(1, Math.round(olderThanHours * 3600)),
    ...(now && { now }),
  });
}

/**
 * adminFilesDeletePending that stops as a whole when the storage failed on the way: the files
 * deleted so far are named in a storage_unavailable error; `onFailed` hears what was left behind.
 */
export async function adminFilesDeletePendingOrStop(
  ctx: FilesContext,
  { olderThanHours, onFailed }: { olderThanHours: number; onFailed?: (failed: CleanupReport['failed']) => void },
): Promise<CleanupReport> {
  const report = await adminFilesDeletePending(ctx, { olderThanHours });
  if (report.failed.length === 0) return report;
  onFailed?.(report.failed);
  throw new AppError(
    'storage_unavailable',
    `The storage could not be reached: ${report.removed.length} pending files were deleted, then the run stopped. Try again later.`,
    { deleted: report.removed, failed: report.failed },
  );
}
