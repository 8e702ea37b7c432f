import type { Readable } from 'node:stream';
import { nowIso } from '../../db/normalise.js';
import type { UploadMethod } from '../../db/schema.js';
import { AppError, fileTooLarge, isAppError, notFound } from '../../errors.js';
import { SYSTEM_ACTOR, type Actor, type FileRequest } from '../actor.js';
import { deleteFileRow, findFileById, findFileByKey, insertFile, type FileRecord } from '../files/repository.js';
import { askUploadStart, changeAndAnnounce } from '../files/hooks.js';
import { awaitsSettling, fileLock, isValid, moveState } from '../files/lifecycle.js';
import { newFileFields } from '../files/new-record.js';
import { typeMismatch } from '../files/content.js';
import {
  assertUploadMethod,
  discardOpenUpload,
  fileDirectUploadFinish,
  getAccessibleFile,
  receiveUpload,
  contentMismatch,
  headForFinish,
  type FilesContext,
} from '../files/services.js';
import { signedSizeMismatch } from '../storage/local-multipart.js';
import { LocalStorage } from '../storage/local.js';
import { MULTIPART, type SignedRequest, type UploadedPart } from '../storage/types.js';
import { findFileByUploadId, markMultipartFinished, setUploadId } from './repository.js';

const SHA256 = /^[0-9a-f]{64}$/;

/** S3 allows 10,000 parts: the part size grows with the file so any allowed size fits. */
export const recommendedPartSize = (fileSize: number): number =>
  Math.max(8 * 2 ** 20, Math.ceil(fileSize / MULTIPART.maxParts));

/** The most parts a file of this size can have when every part but the last is at least 5 MiB. */
const maxPartNumber = (fileSize: number): number =>
  Math.min(MULTIPART.maxParts, Math.max(1, Math.ceil(fileSize / MULTIPART.minPartSize)));

/**
 * A file of a known size cut into parts of `partSize`, the last one shorter: how many parts, and
 * each part's exact size, which its URL is signed for.
 */
export function partLayout(fileSize: number, partSize: number): { count: number; sizeOf(partNumber: number): number } {
  const count = Math.max(1, Math.ceil(fileSize / partSize));
  return { count, sizeOf: (partNumber) => (partNumber < count ? partSize : fileSize - (count - 1) * partSize) };
}

async function createPendingRecord(
  ctx: FilesContext,
  {
    actor,
    fileName,
    fileType,
    fileSize,
    method,
  }: { actor: Actor; fileName: string; fileType: string; fileSize: number | null; method: UploadMethod },
): Promise<FileRecord> {
  const fields = newFileFields(ctx.policy, { fileName, fileType, fileSize });
  await askUploadStart(ctx, { user: actor, fileName: fields.original_file_name, fileType: fields.file_type, fileSize });
  const now = nowIso();
  return insertFile(ctx.db, {
    ...fields,
    file_size: fileSize,
    upload_method: method,
    uploaded_by: actor.id,
    created_at: now,
    updated_at: now,
  });
}

/** The actor's multipart record; any other is 409 upload_method_mismatch. */
async function multipartRecord(ctx: FilesContext, { actor, fileId }: FileRequest): Promise<FileRecord> {
  const file = await getAccessibleFile(ctx, { actor, fileId });
  assertUploadMethod(file, 'multipart');
  return file;
}

/** A multipart record whose upload is still open; else 409 (another method, or completed or aborted). */
export function asOpenUpload(file: FileRecord): FileRecord & { upload_id: string } {
  assertUploadMethod(file, 'multipart');
  if (isValid(file) || file.upload_id === null) {
    throw new AppError('upload_closed', 'This file has no open multipart upload: it was completed or aborted.');
  }
  return file as FileRecord & { upload_id: string };
}

async function openUpload(ctx: FilesContext, request: FileRequest): Promise<FileRecord & { upload_id: string }> {
  return asOpenUpload(await getAccessibleFile(ctx, request));
}

export async function multipartCreate(
  ctx: FilesContext,
  {
    actor,
    fileName,
    fileType,
    fileSize,
  }: { actor: Actor; fileName: string; fileType: string; fileSize: number | null },
): Promise<{ file: FileRecord; uploadId: string; partSize: number }> {
  const file = await createPendingRecord(ctx, { actor, fileName, fileType, fileSize, method: 'multipart' });
  try {
    const { uploadId } = await ctx.storage.createMultipart({ key: file.file, contentType: file.file_type });
    await setUploadId(ctx.db, { id: file.id, uploadId });
    return {
      file: { ...file, upload_id: uploadId },
      uploadId,
      partSize: recommendedPartSize(fileSize ?? ctx.policy.maxSize),
    };
  } catch (error) {
    await deleteFileRow(ctx.db, file.id);
    throw error;
  }
}

/** How the parts of an upload are signed: how long each URL lives, how the client cuts the file. */
export interface PartSigning {
  parts: Array<{ partNumber: number; contentMd5?: string | undefined }>;
  expiresIn?: number;
  /** how the client cuts a file of a known size (Chute's part_size unless told otherwise) */
  partSizeOf?: (fileSize: number) => number;
}

export async function multipartSignParts(
  ctx: FilesContext,
  { actor, fileId, ...signing }: FileRequest & PartSigning,
): Promise<Array<SignedRequest & { partNumber: number }>> {
  return signUploadParts(ctx, await openUpload(ctx, { actor, fileId }), signing);
}

/** Signs parts of `file`, an open upload its caller may reach (asOpenUpload). */
export async function signUploadParts(
  ctx: FilesContext,
  file: FileRecord & { upload_id: string },
  { parts, expiresIn = ctx.policy.presignedExpiry, partSizeOf = recommendedPartSize }: PartSigning,
): Promise<Array<SignedRequest & { partNumber: number }>> {
  // a known size pins every part's exact length; without one (Uppy may send none) only the total is checked, at complete
  const layout = file.file_size === null ? null : partLayout(file.file_size, partSizeOf(file.file_size));
  const highest = layout?.count ?? maxPartNumber(ctx.policy.maxSize);
  return Promise.all(
    parts.map(async ({ partNumber, contentMd5 }) => {
      if (partNumber < 1 || partNumber > highest) {
        throw new AppError(
          'validation_failed',
          `Part numbers for this file run from 1 to ${highest}, not ${partNumber}.`,
        );
      }
      const contentLength = layout?.sizeOf(partNumber);
      const signed = await ctx.storage.signPart({
        key: file.file,
        uploadId: file.upload_id,
        partNumber,
        contentMd5,
        contentLength,
        expiresIn,
      });
      return { partNumber, ...signed };
    }),
  );
}

export async function multipartListParts(ctx: FilesContext, { actor, fileId }: FileRequest): Promise<UploadedPart[]> {
  const file = await openUpload(ctx, { actor, fileId });
  return ctx.storage.listParts({ key: file.file, uploadId: file.upload_id });
}

/** How long a repeated complete waits for the one at work before it answers 409 conflict. */
const COMPLETE_WAIT_MS = 120_000;

/**
 * Joins the parts, then verifies like finish (size, type, checksum) before the record is valid.
 * One complete works at a time, holding the record's lock in state completing: a repeat that
 * arrives meanwhile, e.g. a client retrying after a lost answer, waits for the lock and then
 * answers the first one's outcome instead of joining the parts a second time under it.
 */
export async function multipartComplete(
  ctx: FilesContext,
  {
    actor,
    fileId,
    parts,
    sha256,
  }: { actor: Actor; fileId: number; parts: Array<{ partNumber: number; etag: string }>; sha256?: string | undefined },
): Promise<FileRecord> {
  const current = await multipartRecord(ctx, { actor, fileId });
  if (isValid(current)) return current;
  const file = await openUpload(ctx, { actor, fileId });
  if (sha256 !== undefined && !SHA256.test(sha256))
    throw new AppError('validation_failed', 'sha256 must be 64 lower-case hex digits.');
  if (parts.length === 0) throw new AppError('validation_failed', 'A multipart upload needs at least one part.');

  const lock = await fileLock(ctx, file.id, COMPLETE_WAIT_MS);
  if (!lock)
    throw new AppError('conflict', 'Another request is completing or aborting this upload; ask again in a moment.');
  try {
    // what the request that held the lock left: its outcome, or (it failed) the upload to try again
    const now = await findFileById(ctx.db, file.id);
    if (!now)
      throw new AppError('upload_closed', 'The upload was aborted or refused (and discarded) by another request.');
    if (isValid(now)) return now;
    // completing: a complete whose holder died (its lease ran out) is taken over
    if (!(await moveState(ctx.db, { id: file.id, from: ['pending', 'completing'], to: 'completing' }))) {
      throw new AppError('upload_closed', 'This file has no open multipart upload: it was completed or aborted.');
    }
    try {
      return await completeClaimed(ctx, file, parts, sha256);
    } catch (error) {
      await moveState(ctx.db, { id: file.id, from: ['completing'], to: 'pending' });
      throw error;
    }
  } finally {
    await lock.unlock();
  }
}

async function completeClaimed(
  ctx: FilesContext,
  file: FileRecord & { upload_id: string },
  parts: Array<{ partNumber: number; etag: string }>,
  sha256: string | undefined,
): Promise<FileRecord> {
  let computed: string | null;
  try {
    ({ sha256: computed } = await ctx.storage.completeMultipart({ key: file.file, uploadId: file.upload_id, parts }));
  } catch (error) {
    // a complete whose lease ran out (its process died mid-way) may have won: then this is a repeat
    const again = await findFileById(ctx.db, file.id);
    if (again && isValid(again)) return again;
    throw error;
  }

  const stored = await headForFinish(ctx, file.file);
  const reject = async (
    code: 'upload_size_mismatch' | 'upload_too_large' | 'upload_type_mismatch' | 'checksum_mismatch',
    message: string,
    extra?: Record<string, unknown>,
  ) => {
    await ctx.storage.delete(file.file);
    await deleteFileRow(ctx.db, file.id);
    throw new AppError(code, `${message} The upload was discarded.`, extra);
  };
  if (!stored) throw new AppError('upload_missing', 'The storage has no object after completing the upload.');
  if (stored.size > ctx.policy.maxSize) await reject('upload_too_large', fileTooLarge(ctx.policy.maxSize).message);
  if (file.file_size !== null && stored.size !== file.file_size) {
    await reject(
      'upload_size_mismatch',
      `The parts add up to ${stored.size} bytes, not the ${file.file_size} announced.`,
    );
  }
  if (stored.contentType !== null && stored.contentType !== file.file_type) {
    await reject('upload_type_mismatch', `The stored file is ${stored.contentType}, not ${file.file_type}.`);
  }
  if (computed !== null && sha256 !== undefined && computed !== sha256) {
    await reject('checksum_mismatch', `The file's SHA-256 is ${computed}, not ${sha256} as computed by the client.`);
  }
  const detected = await contentMismatch(ctx, stored, file.file_type);
  if (detected) {
    const refused = typeMismatch(detected, file.file_type);
    await reject('upload_type_mismatch', refused.message, refused.extra);
  }
  return changeAndAnnounce(ctx, 'file.finished', async (db, mark) => {
    const won = await markMultipartFinished(db, {
      id: file.id,
      size: stored.size,
      sha256: computed ?? sha256 ?? null,
      mark,
    });
    const finished = (await findFileById(db, file.id))!;
    return { result: finished, file: won ? finished : null };
  });
}

/**
 * Drops the upload and its record: nothing of it stays pending. The teardown is fileDelete's, under
 * the record's lock, so a complete at work is never pulled from under (409 conflict: it goes on).
 */
export async function multipartAbort(ctx: FilesContext, { actor, fileId }: FileRequest): Promise<void> {
  const file = await multipartRecord(ctx, { actor, fileId });
  const complete = () => new AppError('upload_closed', 'This upload is complete; delete the file instead.');
  const outcome = await discardOpenUpload(ctx, file);
  if (outcome === 'discarded') return;
  if (outcome === 'completed') throw complete();
  if (outcome === 'busy') {
    const current = await findFileById(ctx.db, file.id);
    if (current && isValid(current)) throw complete();
    throw new AppError('conflict', 'This upload is being completed; it cannot be aborted now.');
  }
  // never opened: the record alone
  await ctx.storage.delete(file.file);
  await deleteFileRow(ctx.db, file.id);
}

/** A pending record whose bytes arrive by one signed PUT (Uppy's small files). */
export async function singlePutCreate(
  ctx: FilesContext,
  {
    actor,
    fileName,
    fileType,
    fileSize,
    expiresIn = ctx.policy.presignedExpiry,
  }: { actor: Actor; fileName: string; fileType: string; fileSize: number | null; expiresIn?: number },
): Promise<{ file: FileRecord; upload: SignedRequest }> {
  const file = await createPendingRecord(ctx, { actor, fileName, fileType, fileSize, method: 'put' });
  // a declared size is signed: the storage refuses a body of any other
  const upload = await ctx.storage.signPut({
    key: file.file,
    contentType: file.file_type,
    contentLength: file.file_size ?? undefined,
    expiresIn,
  });
  return { file, upload };
}

/**
 * Finishes a single PUT's record. One the checks refuse (size, type, empty) is settled for good,
 * as a refused multipart complete is: object and record are deleted, so nothing stays pending.
 */
async function finishPut(ctx: FilesContext, file: FileRecord): Promise<FileRecord> {
  try {
    return await fileDirectUploadFinish(ctx, { actor: SYSTEM_ACTOR, fileId: file.id, method: 'put' });
  } catch (error) {
    if (isAppError(error) && error.status < 500 && error.code !== 'upload_missing') {
      await ctx.storage.delete(file.file);
      await deleteFileRow(ctx.db, file.id);
    }
    throw error;
  }
}

/**
 * After a single PUT the client never calls back, so a pending 'put' record is settled when it is
 * read: if the object is there and passes finish's checks, the record becomes valid; if it fails
 * them, object and record are gone (null). Not arrived yet: still pending.
 */
export async function settlePendingPut(ctx: FilesContext, file: FileRecord): Promise<FileRecord | null> {
  if (!awaitsSettling(file)) return file;
  try {
    return await finishPut(ctx, file);
  } catch (error) {
    if (isAppError(error) && error.status < 500) return error.code === 'upload_missing' ? file : null;
    throw error;
  }
}

function localStorageOf(ctx: FilesContext): LocalStorage {
  if (!(ctx.storage instanceof LocalStorage))
    throw new AppError('not_found', 'Parts are sent to Chute only with local storage.');
  return ctx.storage;
}

/** A part PUT to Chute's own signed URL (local storage): the signature is the credential, as on S3. */
export async function localPartReceive(
  ctx: FilesContext,
  {
    uploadId,
    partNumber,
    contentMd5,
    size,
    declaredLength,
    expires,
    signature,
    body,
  }: {
    uploadId: string;
    partNumber: number;
    contentMd5?: string | undefined;
    /** the size the URL was signed for, if any */
    size?: number | undefined;
    /** the request's Content-Length, if it has one */
    declaredLength?: number | undefined;
    expires: number;
    signature: string;
    body: Readable;
  },
): Promise<UploadedPart> {
  const storage = localStorageOf(ctx);
  if (!storage.verifySigned(LocalStorage.partPayload(uploadId, partNumber, contentMd5, size), expires, signature)) {
    throw new AppError(
      'permission_denied',
      'This upload URL is invalid or has expired (a signed Content-MD5 must be sent as signed).',
    );
  }
  assertSignedLength(size, declaredLength);
  const file = await findFileByUploadId(ctx.db, uploadId);
  if (!file || isValid(file)) throw notFound('multipartUpload');
  const maxSize = Math.min(MULTIPART.maxPartSize, file.file_size ?? ctx.policy.maxSize);
  return storage.parts.receive({ uploadId, partNumber, body, contentMd5, maxSize, exactSize: size });
}

/** As S3 refuses a signed Content-Length that differs, before any byte is read. */
function assertSignedLength(size: number | undefined, declaredLength: number | undefined): void {
  if (size !== undefined && declaredLength !== undefined && declaredLength !== size)
    throw signedSizeMismatch(declaredLength, size);
}

/** A whole file PUT to Chute's own signed URL (local storage); it is finished at once. */
export async function localPutReceive(
  ctx: FilesContext,
  {
    key,
    size,
    declaredLength,
    expires,
    signature,
    body,
  }: {
    key: string;
    /** the size the URL was signed for, if any */
    size?: number | undefined;
    /** the request's Content-Length, if it has one */
    declaredLength?: number | undefined;
    expires: number;
    signature: string;
    body: Readable;
  },
): Promise<FileRecord> {
  const storage = localStorageOf(ctx);
  if (!storage.verifySigned(LocalStorage.putPayload(key, size), expires, signature)) {
    throw new AppError('permission_denied', 'This upload URL is invalid or has expired.');
  }
  assertSignedLength(size, declaredLength);
  const file = await findFileByKey(ctx.db, key);
  if (file?.upload_method !== 'put') throw notFound('upload');
  await receiveUpload(ctx, file, () =>
    storage.put({ key, body, contentType: file.file_type, maxSize: size ?? file.file_size ?? ctx.policy.maxSize }),
  );
  return finishPut(ctx, file);
}
