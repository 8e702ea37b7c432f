// A file record as the API shows it: the one mapping, used by the HTTP routes, the host's hooks
// and the server-side files API alike.
import { actorIdJson } from '../actor.js';
import { isValid } from './lifecycle.js';
import type { FileRecord } from './repository.js';
import type { FilesContext } from './services.js';

export interface FileJson {
  id: number;
  original_file_name: string;
  file_name: string;
  file_type: string;
  file_size: number | null;
  /** download URL (signed, expiring when private); null until valid */
  url: string | null;
  is_valid: boolean;
  /** a number for numeric ids (Chute's own users among them), else the host's string */
  uploaded_by: number | string | null;
  upload_finished_at: string | null;
  created_at: string;
}

type UrlContext = Pick<FilesContext, 'storage' | 'policy'>;

/** A URL that serves the bytes for `expiresIn` seconds, or null while the file is not valid. No storage round trip. */
export async function fileUrl(
  ctx: UrlContext,
  file: FileRecord,
  expiresIn: number = ctx.policy.urlExpiry,
): Promise<string | null> {
  if (!isValid(file)) return null;
  return ctx.storage.downloadUrl({
    key: file.file,
    fileName: file.original_file_name,
    contentType: file.file_type,
    expiresIn,
  });
}

/** The record's JSON; `url: null` for a record whose object is gone (onFileDeleted). */
export async function fileJson(
  ctx: UrlContext,
  file: FileRecord,
  { deleted = false }: { deleted?: boolean } = {},
): Promise<FileJson> {
  return {
    id: file.id,
    original_file_name: file.original_file_name,
    file_name: file.file_name,
    file_type: file.file_type,
    file_size: file.file_size,
    url: deleted ? null : await fileUrl(ctx, file),
    is_valid: isValid(file),
    uploaded_by: file.uploaded_by === null ? null : actorIdJson(file.uploaded_by),
    upload_finished_at: file.upload_finished_at?.toISOString() ?? null,
    created_at: file.created_at.toISOString(),
  };
}
