import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { nowIso } from '../../db/normalise.js';
import type { Database, UploadMethod } from '../../db/schema.js';
import { AppError, fileTooLarge, isAppError, notFound } from '../../errors.js';
import { canAccess, type Actor, type FileRequest } from '../actor.js';
import { MULTIPART, type DirectUploadTarget, type StorageBackend, type StoredObject } from '../storage/types.js';
import { newFileFields } from './new-record.js';
import { checkedBody, CONTENT_HEAD_BYTES, contradictingType, typeMismatch } from './content.js';
import { serverUploadNames } from './new-record.js';
import type { Locker } from '../../db/locks.js';
import type { EventOutbox } from '../events/outbox.js';
import { askUploadStart, changeAndAnnounce, type HookLogger, type UploadHooks } from './hooks.js';
import { fileLock, isValid, moveState } from './lifecycle.js';
import { deleteFileRow, findFileById, insertFile, markUploadFinished, type FileRecord } from './repository.js';

export interface UploadPolicy {
  /** largest direct upload */
  maxSize: number;
  /** largest upload through the server; maxSize when unset */
  standardMaxSize?: number;
  /** media-type patterns accepted (`image/*`, `application/pdf`); unset or empty accepts any */
  allowedTypes?: readonly string[];
  /** refuse bytes whose detected type contradicts the declared one (FILE_VERIFY_CONTENT); on unless false */
  verifyContent?: boolean;
  /** seconds a presigned upload stays usable */
  presignedExpiry: number;
  /** seconds a download URL stays usable */
  urlExpiry: number;
}

/** What every core service needs; built once at boot (or by a host app). */
export interface FilesContext {
  db: Kysely<Database>;
  storage: StorageBackend;
  policy: UploadPolicy;
  /** the record locks (src/core/files/lifecycle.ts); leases in `db` unless the host brings its own */
  locker?: Locker;
  /** the host's upload hooks (src/core/files/hooks.ts) */
  hooks?: UploadHooks;
  /** where a hook that failed is reported; console.error when unset */
  log?: HookLogger;
  /** webhooks: events go to this outbox with the change that causes them (src/core/events) */
  events?: EventOutbox;
}

/** S3 takes at most 5 GiB in one request; larger files go multipart. */
const SINGLE_UPLOAD_MAX = MULTIPART.maxSingleUpload;

export { notFound };

/** Where a record of each method gets its bytes: what a request on another method's route is told. */
const METHOD_ROUTE: Record<UploadMethod, string> = {
  post: 'a direct upload: send its bytes to the url from start, then finish it',
  multipart: 'a multipart upload: sign, send and complete its parts with the multipart routes',
  put: 'a single signed PUT (Uppy): send it to the URL from /api/uppy/s3/params; it is settled when read',
  standard: 'uploaded through the server and already complete: there is nothing to send or finish',
};

/**
 * Each method's routes act only on its own records: a multipart record finished as a direct
 * upload would be valid with its parts left open, where neither DELETE nor cleanup looks.
 */
export function assertUploadMethod(file: FileRecord, method: UploadMethod): void {
  if (file.upload_method === method) return;
  throw new AppError('upload_method_mismatch', `This file is ${METHOD_ROUTE[file.upload_method]}.`, {
    upload_method: file.upload_method,
  });
}

/** The file if the actor may touch it; another user's file is indistinguishable from none. */
export async function getAccessibleFile(ctx: FilesContext, { actor, fileId }: FileRequest): Promise<FileRecord> {
  const file = await findFileById(ctx.db, fileId);
  if (!file || !canAccess(actor, file.uploaded_by)) throw notFound();
  return file;
}

export async function fileDirectUploadStart(
  ctx: FilesContext,
  {
    actor,
    fileName,
    fileType,
    fileSize,
  }: { actor: Actor; fileName: string; fileType: string; fileSize?: number | undefined },
): Promise<{ file: FileRecord; upload: DirectUploadTarget }> {
  const fields = newFileFields(ctx.policy, { fileName, fileType, fileSize });
  if (fileSize !== undefined && fileSize > SINGLE_UPLOAD_MAX) {
    throw new AppError('file_too_large', 'A single upload stops at 5 GiB: send this file with a multipart upload.', {
      max_size: SINGLE_UPLOAD_MAX,
    });
  }
  await askUploadStart(ctx, { user: actor, fileName: fields.original_file_name, fileType: fields.file_type, fileSize });
  const now = nowIso();
  const file = await insertFile(ctx.db, {
    ...fields,
    file_size: fileSize ?? null,
    uploaded_by: actor.id,
    created_at: now,
    updated_at: now,
  });
  try {
    const upload = await ctx.storage.createDirectUpload({
      key: file.file,
      fileId: file.id,
      contentType: fields.file_type,
      // A declared size is pinned exactly: the storage refuses any other body.
      minSize: fileSize ?? 1,
      maxSize: fileSize ?? Math.min(ctx.policy.maxSize, SINGLE_UPLOAD_MAX),
      expiresIn: ctx.policy.presignedExpiry,
    });
    return { file, upload };
  } catch (error) {
    await deleteFileRow(ctx.db, file.id);
    throw error;
  }
}

/** The bytes of a direct upload, received by Chute itself (local storage). */
export async function fileDirectUploadLocal(
  ctx: FilesContext,
  { actor, fileId, body }: { actor: Actor; fileId: number; body: Readable },
): Promise<FileRecord> {
  if (ctx.storage.kind !== 'local') {
    throw new AppError(
      'not_found',
      'This server takes direct uploads only with local storage; use the url from start.',
    );
  }
  const file = await getAccessibleFile(ctx, { actor, fileId });
  assertUploadMethod(file, 'post');
  // the local url lives as long as S3's presigned POST would: a leaked or forgotten one goes stale
  if (!isValid(file) && Date.now() > file.created_at.getTime() + ctx.policy.presignedExpiry * 1000) {
    throw new AppError(
      'upload_expired',
      `This upload url expired ${ctx.policy.presignedExpiry} s after start; start a new upload.`,
    );
  }
  await receiveUpload(ctx, file, async () => {
    // a size declared at start is pinned, as the S3 policy pins it
    const { size } = await ctx.storage.put({
      key: file.file,
      body,
      contentType: file.file_type,
      maxSize: file.file_size ?? ctx.policy.maxSize,
    });
    if (file.file_size !== null && size !== file.file_size) {
      await ctx.storage.delete(file.file);
      throw new AppError(
        'upload_size_mismatch',
        `The file has ${size} bytes, not the ${file.file_size} announced at start.`,
      );
    }
  });
  return file;
}

const alreadyReceived = () =>
  new AppError('upload_already_received', 'This upload has already been received; start a new one.');

/**
 * Runs `receive` holding the record's lock, in state receiving (local storage): a second upload to
 * the same record is 409 while the first streams (the lock), after it stored its bytes (received),
 * and after a crash until the dead holder's lease runs out. A failed receive goes back to pending,
 * so the client may send again.
 */
export async function receiveUpload<T>(ctx: FilesContext, file: FileRecord, receive: () => Promise<T>): Promise<T> {
  const lock = await fileLock(ctx, file.id);
  if (!lock) throw alreadyReceived();
  try {
    await startReceiving(ctx, file);
    let received: T;
    try {
      received = await receive();
    } catch (error) {
      await moveState(ctx.db, { id: file.id, from: ['receiving'], to: 'pending' });
      throw error;
    }
    const stored = await moveState(ctx.db, {
      id: file.id,
      from: ['receiving'],
      to: 'received',
      set: { upload_received_at: nowIso() },
    });
    // The record deleted while the bytes streamed: they belong to nothing and no cleanup would find them.
    if (!stored) {
      await ctx.storage.delete(file.file);
      throw notFound();
    }
    return received;
  } finally {
    await lock.unlock();
  }
}

/** pending -> receiving; or taking over the receive of a holder that died (its lease ran out). */
async function startReceiving(ctx: FilesContext, file: FileRecord): Promise<void> {
  if (await moveState(ctx.db, { id: file.id, from: ['pending'], to: 'receiving' })) return;
  if (!(await moveState(ctx.db, { id: file.id, from: ['receiving'], to: 'receiving' }))) throw alreadyReceived();
  // the dead holder may have stored its bytes just before it died: those stay, the newcomer is refused
  if (await ctx.storage.head(file.file)) {
    await moveState(ctx.db, {
      id: file.id,
      from: ['receiving'],
      to: 'received',
      set: { upload_received_at: nowIso() },
    });
    throw alreadyReceived();
  }
}

/** Takes back a local upload the request turned out to be wrong for: bytes gone, back to pending. */
export async function fileDirectUploadLocalUndo(ctx: FilesContext, file: FileRecord): Promise<void> {
  await ctx.storage.delete(file.file);
  await moveState(ctx.db, { id: file.id, from: ['received'], to: 'pending', set: { upload_received_at: null } });
}

/**
 * Verifies what the storage holds before the record becomes valid. The finish route verifies
 * direct uploads ('post'); a single PUT is verified here too, by Chute itself ('put').
 */
export async function fileDirectUploadFinish(
  ctx: FilesContext,
  { actor, fileId, method = 'post' }: { actor: Actor; fileId: number; method?: 'post' | 'put' },
): Promise<FileRecord> {
  const file = await getAccessibleFile(ctx, { actor, fileId });
  assertUploadMethod(file, method);
  if (isValid(file)) return file;

  const stored = await headForFinish(ctx, file.file);
  if (!stored)
    throw new AppError(
      'upload_missing',
      'The file has not been uploaded yet: upload it to the url from start, then finish.',
    );
  if (stored.size === 0) throw new AppError('upload_empty', 'The uploaded file is empty.');
  if (stored.size > ctx.policy.maxSize) {
    await ctx.storage.delete(file.file);
    throw new AppError('upload_too_large', fileTooLarge(ctx.policy.maxSize).message, {
      max_size: ctx.policy.maxSize,
      size: stored.size,
    });
  }
  if (file.file_size !== null && stored.size !== file.file_size) {
    throw new AppError(
      'upload_size_mismatch',
      `The uploaded file has ${stored.size} bytes, not the ${file.file_size} announced at start.`,
    );
  }
  if (stored.contentType !== null && stored.contentType !== file.file_type) {
    throw new AppError(
      'upload_type_mismatch',
      `The uploaded file is ${stored.contentType}, not ${file.file_type} as announced at start.`,
    );
  }
  // as with upload_too_large, the bytes go and the record stays pending
  const detected = await contentMismatch(ctx, stored, file.file_type);
  if (detected) {
    await ctx.storage.delete(file.file);
    throw typeMismatch(detected, file.file_type, ' The upload was discarded.');
  }
  // of concurrent finishes, the one whose UPDATE changed the row tells the host
  const finished = await changeAndAnnounce(ctx, 'file.finished', async (db, mark) => {
    const finishedAt = await markUploadFinished(db, { id: file.id, size: stored.size, mark });
    if (!finishedAt) return { result: null, file: null };
    const record: FileRecord = {
      ...file,
      state: 'valid',
      file_size: stored.size,
      upload_finished_at: finishedAt,
      updated_at: finishedAt,
      pending_event_at: mark.pending_event_at ?? null,
    };
    return { result: record, file: record };
  });
  if (finished) return finished;
  // not moved: a concurrent finish won, the record is gone, or a local upload is still streaming
  const current = await findFileById(ctx.db, file.id);
  if (!current) throw notFound();
  if (isValid(current)) return current;
  throw new AppError('conflict', 'This upload is still being received; finish it once the upload has been answered.');
}

/** The stored object as finish and complete check it: with its first bytes when FILE_VERIFY_CONTENT is on (one request). */
export const headForFinish = (ctx: FilesContext, key: string): Promise<StoredObject | null> =>
  ctx.storage.head(key, { firstBytes: ctx.policy.verifyContent === false ? 0 : CONTENT_HEAD_BYTES });

/**
 * The type the stored object's first bytes are when it contradicts the record's declared type
 * (null when it does not, or when FILE_VERIFY_CONTENT is off).
 */
export const contentMismatch = async (
  ctx: FilesContext,
  stored: StoredObject,
  declaredType: string,
): Promise<string | null> =>
  ctx.policy.verifyContent === false ? null : contradictingType(stored.firstBytes, declaredType);

/** The upload's bytes, refused before they reach the storage if they contradict `type` (FILE_VERIFY_CONTENT). */
export const verifiedBody = (ctx: FilesContext, body: Readable, type: string): Readable =>
  ctx.policy.verifyContent === false ? body : checkedBody(body, type);

export interface StandardUpload {
  uploadedBy: string | null;
  body: Readable;
  fileName: string;
  clientType?: string | null | undefined;
  maxSize?: number;
  /** the user whose request this is, asked about in onUploadStart; unset for trusted callers (the admin, the host's own code) */
  asker?: Actor;
}

/**
 * Upload through the server: the bytes stored, then (once `afterStored` agrees) the valid record
 * written and the host told. An upload refused on the way leaves no object and no record.
 */
export async function fileStandardUpload(
  ctx: FilesContext,
  {
    uploadedBy,
    body,
    fileName,
    clientType,
    maxSize,
    asker,
    afterStored,
  }: StandardUpload & { afterStored?: AfterStored },
): Promise<FileRecord> {
  const { originalFileName, type, generatedName, key } = serverUploadNames(ctx.policy, { fileName, clientType });
  if (asker) await askUploadStart(ctx, { user: asker, fileName: originalFileName, fileType: type });
  const { size } = await ctx.storage.put({
    key,
    body: verifiedBody(ctx, body, type),
    contentType: type,
    maxSize: maxSize ?? ctx.policy.standardMaxSize ?? ctx.policy.maxSize,
  });
  const now = nowIso();
  try {
    await afterStored?.();
    return await changeAndAnnounce(ctx, 'file.finished', async (db, mark) => {
      const file = await insertFile(db, {
        file: key,
        original_file_name: originalFileName,
        file_name: generatedName,
        file_type: type,
        file_size: size,
        upload_method: 'standard',
        uploaded_by: uploadedBy,
        upload_received_at: now,
        upload_finished_at: now,
        state: 'valid',
        created_at: now,
        updated_at: now,
        ...mark,
      });
      return { result: file, file };
    });
  } catch (error) {
    await ctx.storage.delete(key).catch(() => undefined);
    throw error;
  }
}

/**
 * Removes the stored bytes first: a row is never left pointing at nothing it claims to have.
 * An open multipart upload is aborted too: once the row is gone, no cleanup could find its parts.
 */
export async function fileDelete(ctx: FilesContext, { actor, fileId }: FileRequest): Promise<void> {
  const file = await getAccessibleFile(ctx, { actor, fileId });
  const outcome = await discardOpenUpload(ctx, file);
  if (outcome === 'discarded') return;
  if (outcome === 'busy')
    throw new AppError('conflict', 'This upload is being completed right now; delete the file once that is done.');
  // no open upload (or completed meanwhile): a plain delete; of concurrent ones, the one whose DELETE took the row tells the host
  await ctx.storage.delete(file.file);
  await changeAndAnnounce(
    ctx,
    'file.deleted',
    async (db) => {
      const gone = await deleteFileRow(db, file.id);
      return { result: undefined, file: gone?.upload_finished_at ? gone : null };
    },
    { touches: file.id },
  );
}

/**
 * The teardown of an open multipart upload (delete and abort): under the record's lock, so a
 * complete at work is never pulled from under ('busy'), the upload is aborted, then the object
 * and the record go ('discarded'). 'completed': it is valid now; 'none': it has no open upload (or is gone).
 */
export async function discardOpenUpload(
  ctx: FilesContext,
  file: FileRecord,
): Promise<'discarded' | 'busy' | 'completed' | 'none'> {
  if (isValid(file)) return 'completed';
  if (file.upload_id === null) return 'none';
  const lock = await fileLock(ctx, file.id);
  if (!lock) return 'busy';
  try {
    const current = await findFileById(ctx.db, file.id);
    if (current && isValid(current)) return 'completed';
    if (!current || current.upload_id === null) return 'none';
    await ctx.storage.abortMultipart({ key: current.file, uploadId: current.upload_id }).catch((error: unknown) => {
      // an upload the storage no longer knows is as good as aborted
      if (!isAppError(error) || error.status >= 500) throw error;
    });
    await ctx.storage.delete(current.file);
    await deleteFileRow(ctx.db, current.id);
    return 'discarded';
  } finally {
    await lock.unlock();
  }
}

/** Runs once the bytes are stored; throws when the request turns out wrong after all (a second file). */
export type AfterStored = () => Promise<void>;

/** A local direct upload whose request may still fail after its bytes are stored: then the receipt is undone. */
export async function fileDirectUploadLocalChecked(
  ctx: FilesContext,
  { actor, fileId, body, afterStored }: { actor: Actor; fileId: number; body: Readable; afterStored: AfterStored },
): Promise<FileRecord> {
  const file = await fileDirectUploadLocal(ctx, { actor, fileId, body });
  await afterStored().catch(async (error: unknown) => {
    await fileDirectUploadLocalUndo(ctx, file).catch(() => undefined);
    throw error;
  });
  return file;
}

/** An upload through the server whose request may still fail after its bytes are stored: then the file goes again. */
export async function fileStandardUploadChecked(
  ctx: FilesContext,
  {
    actor,
    afterStored,
    ...upload
  }: {
    actor: Actor;
    afterStored: AfterStored;
    body: Readable;
    fileName: string;
    clientType?: string | null | undefined;
    maxSize?: number;
  },
): Promise<FileRecord> {
  // checked before the record is written: taken back, it leaves nothing and tells no one
  return fileStandardUpload(ctx, { ...upload, uploadedBy: actor.id, asker: actor, afterStored });
}
