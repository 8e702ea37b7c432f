// Temp files of local uploads (whole files in .tmp, parts in .multipart/<id>/) and how the cleanup
// tells a dead upload's from a live one's across processes: the process writing one touches it
// every TEMP_TOUCH_MS, whether or not the client sends bytes, so one untouched for TEMP_ORPHAN_MS
// belongs to a process that died (SIGKILL, a crash, power loss) and to no upload.
import { createWriteStream } from 'node:fs';
import { rm, stat, utimes } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PRIVATE_FILE_MODE } from '../../fs-modes.js';

export const TEMP_TOUCH_MS = 10_000;
export const TEMP_ORPHAN_MS = 5 * 60_000;

/** Touches `path` every TEMP_TOUCH_MS until the returned function is called. */
export function keepTouched(path: string): () => void {
  const timer = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined); // not there yet or already renamed: nothing to keep
  }, TEMP_TOUCH_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Removes `path` (a file, or a folder with what is in it) if untouched since `before`; whether it did. */
export async function removeIfUntouched(path: string, before: number): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  if (!info || info.mtimeMs >= before) return false;
  await rm(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  return true;
}

/**
 * Streams `body` through `transforms` into a new file at `path`. On failure the file is gone
 * before this rejects: pipeline rejects as soon as a stream fails, while the file may still be
 * opening on another thread, so removing it then raced the open (and lost under load: the file
 * appeared after its removal and stayed). It is removed once its stream has closed.
 */
export async function pipeToNewFile(path: string, body: Readable, ...transforms: Transform[]): Promise<void> {
  const out = createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE_MODE });
  let opened = false;
  out.once('open', () => {
    opened = true;
  });
  try {
    await pipeline([body, ...transforms, out]);
  } catch (error) {
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
    // not opened: nothing was made (or the name was taken, and that file is not ours)
    if (opened) await rm(path, { force: true }).catch(() => undefined);
    throw error;
  }
}
