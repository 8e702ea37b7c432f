// Abandoned uploads: records started but never finished, and whatever their upload left in the
// storage. A record younger than the limit is never touched, so the cleanup is safe while uploads
// are in flight; what it removed is gone, so running it twice removes nothing more.
import { AppError, isAppError } from '../../errors.js';
import { fileLock, isValid } from './lifecycle.js';
import { deletePendingFileRow, listStalePendingFiles, type FileRecord } from './repository.js';
import { findFileByUploadId } from '../multipart/repository.js';
import { settlePendingPut } from '../multipart/services.js';
import { LocalStorage } from '../storage/local.js';
import type { FilesContext } from './services.js';

export interface CleanupReport {
  /** records started before this instant (and idle since) were candidates */
  cutoff: Date;
  /** ids of the records removed */
  removed: number[];
  /**
   * records removed whose stored data could not be deleted (storage unreachable): the run stops
   * at the first such failure, so at most one object per run is left behind, named here
   */
  failed: Array<{ id: number; key: string; reason: string }>;
  /** local storage: temp files and part folders of uploads whose process died, removed */
  orphans: number;
}

export const CLEANUP_BATCH = 200;

/** What a pending upload may have left in the storage: an open multipart upload, an object. */
async function discardPendingUpload(ctx: FilesContext, file: FileRecord): Promise<void> {
  if (file.upload_id !== null) await ctx.storage.abortMultipart({ key: file.file, uploadId: file.upload_id });
  await ctx.storage.delete(file.file);
}

/**
 * Removes records never finished (upload_finished_at IS NULL) created more than olderThanSeconds
 * ago, and their stored data. The row goes first, and only while still pending: a finish racing
 * the cleanup either wins (the record stays, with its object) or finds no record. With local
 * storage it then removes what killed uploads left on disk, which no record points at.
 */
export async function filesCleanupPending(
  ctx: FilesContext,
  { olderThanSeconds, now = new Date() }: { olderThanSeconds: number; now?: Date },
): Promise<CleanupReport> {
  if (!Number.isFinite(olderThanSeconds) || olderThanSeconds < 1) {
    throw new AppError('validation_failed', 'The cleanup limit must be at least one second.');
  }
  const report: CleanupReport = {
    cutoff: new Date(now.getTime() - olderThanSeconds * 1000),
    removed: [],
    failed: [],
    orphans: 0,
  };
  await cleanupPendingRecords(ctx, report);
  if (ctx.storage instanceof LocalStorage) {
    report.orphans = await ctx.storage.removeStaleTempFiles({
      now: now.getTime(),
      isOpenUpload: async (uploadId) => (await findFileByUploadId(ctx.db, uploadId)) !== undefined,
    });
  }
  return report;
}

/** Fills `report`; stops at the first record whose stored data could not be deleted. */
async function cleanupPendingRecords(ctx: FilesContext, report: CleanupReport): Promise<void> {
  const { cutoff } = report;
  let afterId = 0;
  for (;;) {
    // paged by id: records passed by (locked, kept) never hide the ones after them
    const batch = await listStalePendingFiles(ctx.db, { before: cutoff, afterId, limit: CLEANUP_BATCH });
    if (batch.length === 0) return;
    for (const file of batch) {
      afterId = file.id;
      // a record whose lock is held is being received or completed right now: not abandoned
      const lock = await fileLock(ctx, file.id);
      if (!lock) continue;
      try {
        if (!(await cleanupRecord(ctx, file, report))) return;
      } finally {
        await lock.unlock();
      }
    }
  }
}

/** Settles or removes one stale record (holding its lock); false when its stored data could not be deleted. */
async function cleanupRecord(ctx: FilesContext, file: FileRecord, report: CleanupReport): Promise<boolean> {
  // a single-PUT upload (Uppy) that arrived but was never read yet is settled, not removed
  if (file.upload_method === 'put') {
    const settled = await settlePendingPut(ctx, file);
    if (settled && isValid(settled)) return true;
    if (!settled) {
      // refused by finish's checks and discarded already
      report.removed.push(file.id);
      return true;
    }
  }
  if (!(await deletePendingFileRow(ctx.db, file.id))) return true;
  report.removed.push(file.id);
  try {
    await discardPendingUpload(ctx, file);
  } catch (error) {
    report.failed.push({ id: file.id, key: file.file, reason: isAppError(error) ? error.message : String(error) });
    return false;
  }
  return true;
}
