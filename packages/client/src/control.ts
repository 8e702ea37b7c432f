import { AbortError } from './errors.js';

/**
 * Pauses and resumes an upload: pass one as `control` to `uploadFile`. Pausing stops the parts in
 * flight at once (their bytes are sent again on resume) and starts no new ones. Single-request
 * uploads (files under `multipartThreshold`) cannot pause and ignore it. Dispatches a "change"
 * event on every pause and resume.
 */
export class UploadControl extends EventTarget {
  paused = false;

  pause(): void {
    this.set(true);
  }

  resume(): void {
    this.set(false);
  }

  private set(paused: boolean) {
    if (this.paused === paused) return;
    this.paused = paused;
    this.dispatchEvent(new Event('change'));
  }
}

/** Calls `listener` when `signal` aborts and when `control` pauses or resumes; returns the undo. */
export function listen(
  signal: AbortSignal | undefined,
  control: UploadControl | undefined,
  listener: () => void,
): () => void {
  signal?.addEventListener('abort', listener);
  control?.addEventListener('change', listener);
  return () => {
    signal?.removeEventListener('abort', listener);
    control?.removeEventListener('change', listener);
  };
}

/**
 * Resolves after `ms` and once `control` is not paused; rejects with AbortError as soon as
 * `signal` aborts.
 */
export function wait(signal?: AbortSignal, control?: UploadControl, ms = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (signal?.aborted || !(ms || control?.paused)) {
        clearTimeout(timer);
        unlisten();
        if (signal?.aborted) reject(new AbortError());
        else resolve();
      }
    };
    const timer = setTimeout(() => {
      ms = 0;
      check();
    }, ms);
    const unlisten = listen(signal, control, check);
    check();
  });
}
