// The Companion S3 protocol as @uppy/aws-s3 5.x speaks it, on the multipart and single-PUT
// services: Uppy names an upload by its (uploadId, key) pair rather than a file id, cuts files
// its own way and turns a URL's expiry into its request timeout. Each upload is an ordinary file.
import { notFound } from '../../errors.js';
import { canAccess, type Actor } from '../actor.js';
import type { FileRecord } from '../files/repository.js';
import type { FilesContext, UploadPolicy } from '../files/services.js';
import { MULTIPART, type SignedRequest, type UploadedPart } from '../storage/types.js';
import { findFileByUploadId } from './repository.js';
import {
  multipartAbort,
  multipartComplete,
  multipartCreate,
  multipartListParts,
  asOpenUpload,
  signUploadParts,
  singlePutCreate,
} from './services.js';

/** Uppy's single PUTs go up to 100 MiB: 10 minutes allows ~170 KB/s. */
export const UPPY_MIN_EXPIRY_SECONDS = 600;

/**
 * @uppy/aws-s3 5.x turns `expires` into the upload request's timeout (xhr.timeout): with the
 * usual short expiry a 100 MiB single PUT on a slow link would be cut, so Uppy's URLs live longer.
 */
export const uppyExpiry = (policy: UploadPolicy): number => Math.max(policy.presignedExpiry, UPPY_MIN_EXPIRY_SECONDS);

/**
 * How @uppy/aws-s3 5.x cuts a file (its default getChunkSize): 5 MiB parts, larger past 10,000 of
 * them. Where the size is known, each part's URL is signed for exactly its share.
 */
const uppyPartSize = (fileSize: number) => Math.max(MULTIPART.minPartSize, Math.ceil(fileSize / MULTIPART.maxParts));

const typeOrDefault = (type: string | undefined) => (type?.trim() ? type : 'application/octet-stream');

/** A size Uppy sent in its metadata, if any; else the completed upload's size is checked against the limit only. */
const sizeFrom = (value: unknown): number | null => {
  const size = Number(value);
  return Number.isSafeInteger(size) && size > 0 ? size : null;
};

/** What Uppy sends to create an upload: its metadata may carry the size. */
export interface UppyCreate {
  actor: Actor;
  fileName: string;
  type?: string | undefined;
  size?: unknown;
}

/** The caller's open upload behind Uppy's (uploadId, key) pair. */
export interface UppyUpload {
  actor: Actor;
  uploadId: string;
  key: string;
}

async function uploadOf(ctx: FilesContext, { actor, uploadId, key }: UppyUpload): Promise<FileRecord> {
  const file = await findFileByUploadId(ctx.db, uploadId);
  if (!file || file.file !== key || !canAccess(actor, file.uploaded_by)) throw notFound('upload');
  return file;
}

/** A single signed PUT for a small file (getUploadParameters), with how long its URL lives. */
export async function uppyPutCreate(
  ctx: FilesContext,
  { actor, fileName, type, size }: UppyCreate,
): Promise<{ upload: SignedRequest; expires: number }> {
  const expires = uppyExpiry(ctx.policy);
  const { upload } = await singlePutCreate(ctx, {
    actor,
    fileName,
    fileType: typeOrDefault(type),
    fileSize: sizeFrom(size),
    expiresIn: expires,
  });
  return { upload, expires };
}

export async function uppyMultipartCreate(
  ctx: FilesContext,
  { actor, fileName, type, size }: UppyCreate,
): Promise<{ key: string; uploadId: string }> {
  const { file, uploadId } = await multipartCreate(ctx, {
    actor,
    fileName,
    fileType: typeOrDefault(type),
    fileSize: sizeFrom(size),
  });
  return { key: file.file, uploadId };
}

/** Part URLs signed for Uppy's own part sizes, with how long they live. */
export async function uppySignParts(
  ctx: FilesContext,
  { partNumbers, ...upload }: UppyUpload & { partNumbers: number[] },
): Promise<{ urls: Array<{ partNumber: number; url: string }>; expires: number }> {
  // Uppy signs every part on its own (one request per 5 MiB): the record is read once
  const file = asOpenUpload(await uploadOf(ctx, upload));
  const expires = uppyExpiry(ctx.policy);
  const signed = await signUploadParts(ctx, file, {
    parts: partNumbers.map((partNumber) => ({ partNumber })),
    expiresIn: expires,
    partSizeOf: uppyPartSize,
  });
  return { urls: signed.map(({ partNumber, url }) => ({ partNumber, url })), expires };
}

export async function uppyListParts(ctx: FilesContext, upload: UppyUpload): Promise<UploadedPart[]> {
  const file = await uploadOf(ctx, upload);
  return multipartListParts(ctx, { actor: upload.actor, fileId: file.id });
}

/** Uppy lists parts in the order they finished: they are joined in part order. */
export async function uppyComplete(
  ctx: FilesContext,
  { parts, ...upload }: UppyUpload & { parts: Array<{ partNumber: number; etag: string }> },
): Promise<FileRecord> {
  const file = await uploadOf(ctx, upload);
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  return multipartComplete(ctx, { actor: upload.actor, fileId: file.id, parts: sorted });
}

export async function uppyAbort(ctx: FilesContext, upload: UppyUpload): Promise<void> {
  const file = await uploadOf(ctx, upload);
  await multipartAbort(ctx, { actor: upload.actor, fileId: file.id });
}
