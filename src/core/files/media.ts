// Local downloads: the local twin of a presigned GET. Decides whether a signed link is served and
// with which headers; the HTTP layer only sends the bytes.
import { isValid } from './lifecycle.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import type { LocalStorage } from '../storage/local.js';
import { downloadHeaders } from '../storage/serving.js';
import { findFileByKey } from './repository.js';
import { notFound } from './services.js';

export interface MediaContext {
  db: Kysely<Database>;
  storage: LocalStorage;
}

/** What a download link resolves to: the file to send from `root` and the headers it goes with. */
export interface MediaDownload {
  root: string;
  key: string;
  headers: Record<string, string>;
}

/**
 * The headers a stored file is served with. Types not safe to show inline go as attachments
 * (serving.ts); even if a type slips past that list, the response may run no script and reach nothing.
 */
export function mediaHeaders(fileName: string, fileType: string): Record<string, string> {
  const served = downloadHeaders(fileName, fileType);
  return {
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'private, max-age=3600',
    'content-type': served.contentType,
    'content-disposition': served.contentDisposition,
  };
}

/** A signed link's file, if the signature holds and the file is valid and on disk. */
export async function mediaDownload(
  ctx: MediaContext,
  { key, expires, signature }: { key: string; expires: number; signature: string },
): Promise<MediaDownload> {
  if (!ctx.storage.verifyDownload(key, expires, signature)) {
    throw new AppError('permission_denied', 'This download link is invalid or has expired.');
  }
  ctx.storage.pathOf(key); // refuses keys that name nothing storable (NUL, dot folders) before the database sees them
  const file = await findFileByKey(ctx.db, key);
  // a record whose object is gone from disk (a partial restore) is as missing as no record
  if (!file || !isValid(file) || !(await ctx.storage.head(key))) throw notFound();
  return { root: ctx.storage.root, key, headers: mediaHeaders(file.original_file_name, file.file_type) };
}
