// The abandoned-upload cleanup as an operation: from `chute cleanup` or on an interval inside the
// server (FILE_CLEANUP_INTERVAL). Either way it runs under one database lock, so with several
// processes (or a cron job beside them) only one cleans at a time.
import type { FastifyBaseLogger } from 'fastify';
import { filesCleanupPending, type CleanupReport } from '../core/files/cleanup.js';
import type { FilesContext } from '../core/files/services.js';
import { withLock, type Locked } from '../db/locks.js';

export const CLEANUP_LOCK = 'files_cleanup';
/** a run normally takes seconds; a holder that died frees the lock after this */
const LOCK_TTL_SECONDS = 15 * 60;

export async function cleanupRun(
  ctx: FilesContext,
  { olderThanSeconds, owner }: { olderThanSeconds: number; owner?: string },
): Promise<Locked<CleanupReport>> {
  return withLock(ctx.db, { name: CLEANUP_LOCK, ttlSeconds: LOCK_TTL_SECONDS, ...(owner && { owner }) }, () =>
    filesCleanupPending(ctx, { olderThanSeconds }),
  );
}

export interface CleanupSchedule {
  /** stops the timer and waits for a run in progress */
  stop(): Promise<void>;
}

/** Runs the cleanup now and then every intervalSeconds; one run at a time in this process. */
export function startCleanupSchedule(
  ctx: FilesContext,
  {
    intervalSeconds,
    olderThanSeconds,
    log,
  }: { intervalSeconds: number; olderThanSeconds: number; log: FastifyBaseLogger },
): CleanupSchedule {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = cleanupRun(ctx, { olderThanSeconds })
      .then((outcome) => {
        if (!outcome.acquired)
          log.debug({ holder: outcome.holder?.owner }, 'cleanup: another process holds the lock; skipped');
        else if (outcome.result.removed.length || outcome.result.failed.length || outcome.result.orphans) {
          const { removed, failed, orphans } = outcome.result;
          log.info({ removed: removed.length, ids: removed, failed, orphans }, 'cleanup: removed abandoned uploads');
        }
      })
      .catch((error: unknown) => log.warn({ err: error }, 'cleanup failed; will retry at the next interval'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
