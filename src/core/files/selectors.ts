import type { Actor } from '../actor.js';
import { listFiles, type FileRecord } from './repository.js';
import { settlePendingPut } from '../multipart/services.js';
import { getAccessibleFile, notFound, type FilesContext } from './services.js';

/** One file the actor may see; a pending single-PUT upload is settled on the way. */
export async function fileGet(ctx: FilesContext, { actor, fileId }: { actor: Actor; fileId: number }): Promise<FileRecord> {
  const file = await settlePendingPut(ctx, await getAccessibleFile(ctx, { actor, fileId }));
  // a single PUT its checks refused is discarded on the way
  if (!file) throw notFound();
  return file;
}

export async function fileList(
  ctx: FilesContext,
  { actor, limit, offset }: { actor: Actor; limit: number; offset: number },
): Promise<{ count: number; files: FileRecord[] }> {
  const { count, files } = await listFiles(ctx.db, { uploadedBy: actor.id, limit, offset });
  const settled = await Promise.all(files.map((file) => settlePendingPut(ctx, file)));
  const kept = settled.filter((file): file is FileRecord => file !== null);
  return { count: count - (settled.length - kept.length), files: kept };
}

/** A URL that serves the bytes, or null while the file is not valid. No storage round trip. */
export async function fileUrl(ctx: FilesContext, file: FileRecord): Promise<string | null> {
  if (!file.upload_finished_at) return null;
  return ctx.storage.downloadUrl({
    key: file.file,
    fileName: file.original_file_name,
    contentType: file.file_type,
    expiresIn: ctx.policy.urlExpiry,
  });
}
