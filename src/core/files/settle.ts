// A single signed PUT (Uppy's small files) has no finish call: the client's next read of the file
// is where Chute learns the bytes arrived. These services settle such records, then read; the
// selectors themselves only read. The cleanup settles what no one read (src/core/files/cleanup.ts).
import type { Actor } from '../actor.js';
import { settlePendingPut } from '../multipart/services.js';
import { awaitsSettling, isValid } from './lifecycle.js';
import type { FileRecord } from './repository.js';
import { fileGet, fileList } from './selectors.js';
import { notFound, type FilesContext } from './services.js';

/** One file, a pending single PUT settled first: valid if its bytes pass finish's checks, gone if they fail them. */
export async function fileGetSettled(
  ctx: FilesContext,
  request: { actor: Actor; fileId: number },
): Promise<FileRecord> {
  const file = await fileGet(ctx, request);
  if (!awaitsSettling(file)) return file;
  const settled = await settlePendingPut(ctx, file);
  if (!settled) throw notFound(); // refused by finish's checks, discarded
  return settled;
}

/** A page of the actor's files, its pending single PUTs settled first (the page read again if any changed). */
export async function fileListSettled(
  ctx: FilesContext,
  request: { actor: Actor; limit: number; offset: number },
): Promise<{ count: number; files: FileRecord[] }> {
  const page = await fileList(ctx, request);
  const pending = page.files.filter(awaitsSettling);
  if (pending.length === 0) return page;
  const settled = await Promise.all(pending.map((file) => settlePendingPut(ctx, file)));
  if (settled.every((file) => file && !isValid(file))) return page;
  return fileList(ctx, request);
}
