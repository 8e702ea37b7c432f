// SQLite in WAL mode copies the log back into the database file at checkpoints, and by default the
// connection that commits does it, synchronously, every 1,000 pages: on the event loop, with two
// fsyncs. Under the start benchmark that was a stall of ~7 ms about 25 times a second (a quarter of
// the server's time idle, waiting for the disk). Here a worker thread with its own connection does
// the copying and syncing (PASSIVE: it never blocks the writer), and the writer keeps a checkpoint
// of its own at a higher mark: under a steady stream of commits the worker never finds the log
// fully copied at the moment a commit starts, and only then does SQLite start the log over. That
// checkpoint finds most pages already copied and synced. Durability is SQLite's as configured:
// a checkpoint moves committed pages, it never decides when a commit is durable.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The writer's own checkpoint mark in pages (SQLite's default is 1,000 and then the worker is idle). */
export const WRITER_CHECKPOINT_PAGES = 2000;
/** How often the worker checkpoints while commits come in; when none do it waits up to IDLE_MS. */
const BUSY_MS = 10;
const IDLE_MS = 1000;
/**
 * How long the worker waits while the log is past the writer's mark. The log starts over only when a
 * write begins with every frame copied and no checkpoint under way; a worker busy copying (slow disk,
 * busy machine) kept that from happening and the log grew on (27 MB over 6,000 commits under load).
 */
const ASIDE_MS = 100;

// CommonJS run with `eval`, so it needs no file of its own next to the compiled or the tsx-run code.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.path, { fileMustExist: true });
let delay = workerData.busyMs;
let lastLog = -1;
let timer;
const round = () => {
  try {
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log >= workerData.writerMark) delay = workerData.asideMs; // the writer's checkpoint starts the log over
    else delay = log !== lastLog ? workerData.busyMs : Math.min(delay * 2, workerData.idleMs);
    lastLog = log;
  } catch {
    delay = workerData.idleMs; // a full disk, say: the next round tries again
  }
  timer = setTimeout(round, delay);
};
timer = setTimeout(round, delay);
parentPort.once('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

export interface BackgroundCheckpoints {
  /** Ends the worker; it closes its connection first (the last one closed removes the log). */
  stop(): void;
}

/**
 * Checkpoints the database at `path` (in WAL mode, its writer checkpointing at
 * WRITER_CHECKPOINT_PAGES) from a worker thread. If the worker cannot run, `onFailure` is to give
 * the writer SQLite's own mark back, so nothing but speed is lost.
 */
export function startBackgroundCheckpoints(path: string, onFailure: () => void): BackgroundCheckpoints {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path,
      busyMs: BUSY_MS,
      idleMs: IDLE_MS,
      asideMs: ASIDE_MS,
      writerMark: WRITER_CHECKPOINT_PAGES,
    },
  });
  worker.unref();
  worker.once('error', onFailure);
  return { stop: () => worker.postMessage('stop') };
}
