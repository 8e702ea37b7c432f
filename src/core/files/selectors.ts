import type { Actor, FileRequest } from '../actor.js';
import { listFiles, type FileRecord } from './repository.js';
import { getAccessibleFile, type FilesContext } from './services.js';

/** One file the actor may see, as it is: reads only (see fileGetSettled for a single PUT's settling). */
export async function fileGet(ctx: FilesContext, { actor, fileId }: FileRequest): Promise<FileRecord> {
  return getAccessibleFile(ctx, { actor, fileId });
}

/** A page of files as the list asks for it: limit 1 to 100 (20 unless given), offset from 0. */
export function filePage({
  limit,
  offset,
}: {
  limit?: number | string | undefined;
  offset?: number | string | undefined;
}): { limit: number; offset: number } {
  const asked = Math.trunc(Number(limit ?? 20));
  const skip = Math.trunc(Number(offset ?? 0));
  return {
    limit: Number.isFinite(asked) ? Math.min(Math.max(asked, 1), 100) : 20,
    offset: Number.isFinite(skip) ? Math.max(skip, 0) : 0,
  };
}

export async function fileList(
  ctx: FilesContext,
  { actor, limit, offset }: { actor: Actor; limit: number; offset: number },
): Promise<{ count: number; files: FileRecord[] }> {
  return listFiles(ctx.db, { uploadedBy: actor.id, limit, offset });
}
