import { isValid } from './lifecycle.js';
import type { Actor } from '../actor.js';
import { listFiles, type FileRecord } from './repository.js';
import { getAccessibleFile, type FilesContext } from './services.js';

/** One file the actor may see, as it is: reads only (see fileGetSettled for a single PUT's settling). */
export async function fileGet(
  ctx: FilesContext,
  { actor, fileId }: { actor: Actor; fileId: number },
): Promise<FileRecord> {
  return getAccessibleFile(ctx, { actor, fileId });
}

export async function fileList(
  ctx: FilesContext,
  { actor, limit, offset }: { actor: Actor; limit: number; offset: number },
): Promise<{ count: number; files: FileRecord[] }> {
  return listFiles(ctx.db, { uploadedBy: actor.id, limit, offset });
}

/** A URL that serves the bytes, or null while the file is not valid. No storage round trip. */
export async function fileUrl(ctx: FilesContext, file: FileRecord): Promise<string | null> {
  if (!isValid(file)) return null;
  return ctx.storage.downloadUrl({
    key: file.file,
    fileName: file.original_file_name,
    contentType: file.file_type,
    expiresIn: ctx.policy.urlExpiry,
  });
}
