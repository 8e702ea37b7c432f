import { throwIfAborted } from './api.js';
import { listen, wait, type UploadControl } from './control.js';
import { AbortError, ChuteError, type StorageError } from './errors.js';

/**
 * Exponential backoff with full jitter: a random wait between 0 and min(30 s, base * 2^attempt)
 * (attempt 0 is the first retry). Spreads clients that failed together over the whole window.
 */
export const backoff = (attempt: number, base: number, random = Math.random()): number =>
  Math.floor(random * Math.min(30_000, base * 2 ** attempt));

/**
 * Whether a failed request is worth sending again: network failures, 5xx, 429 and 408, S3's
 * RequestTimeout. For the answer to a part PUT (the error has a `partNumber`), also a corrupted
 * body (S3 BadDigest, Chute checksum_mismatch: the slice is read from the file again) and an
 * expired part URL (AWS: AccessDenied "Request has expired"; Ceph RGW: AccessDenied with no
 * message; Chute's local storage: 403): a new URL is signed for every try. Never other 4xx (a
 * 403 with another message, e.g. "Access Denied"), nor an abort.
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof ChuteError) || error instanceof AbortError) return false;
  const { status, code, partNumber, storageMessage: message } = error as Partial<StorageError>;
  if (!status) return true; // NetworkError, StorageUnreachableError
  return (
    status > 499 ||
    status == 429 ||
    status == 408 ||
    code == 'RequestTimeout' ||
    (!!partNumber &&
      (code == 'BadDigest' ||
        code == 'checksum_mismatch' ||
        // expired: AWS says so; Ceph RGW answers a bare AccessDenied; Chute (local) a 403
        (status == 403 && (!message || /expired/i.test(message)))))
  );
}

export interface RetryInfo {
  error: unknown;
  /** 1 for the first retry */
  attempt: number;
  /** ms it waits before it */
  delay: number;
  /** the part being sent, if any */
  partNumber?: number;
}

export interface RetryOptions {
  /** retries after the first try; default 5 */
  retries?: number;
  /** backoff base in ms; default 1000 (waits up to 1, 2, 4, 8, 16 s; never more than 30 s) */
  retryDelay?: number;
  signal?: AbortSignal;
  control?: UploadControl;
  onRetry?: (info: RetryInfo) => void;
}

/**
 * Runs `task` until it succeeds, fails for good (see isRetryable), or the retries are used up.
 * Each try gets its own signal, aborted by `signal` and by a pause of `control`: a try cut by a
 * pause starts again on resume without counting as a retry.
 */
export async function withRetry<T>(
  task: (signal: AbortSignal) => Promise<T>,
  options: RetryOptions,
  partNumber?: number,
): Promise<T> {
  const { signal, control, retries = 5, retryDelay = 1000 } = options;
  for (let attempt = 0, delay = 0; ; ) {
    await wait(signal, control, delay);
    const request = new AbortController();
    const unlisten = listen(signal, control, () => (signal?.aborted || control?.paused) && request.abort());
    try {
      return await task(request.signal);
    } catch (error) {
      throwIfAborted(signal);
      delay = 0;
      if (!control?.paused) {
        if (attempt >= retries || !isRetryable(error)) throw error;
        delay = backoff(attempt++, retryDelay);
        options.onRetry?.({ error, attempt, delay, partNumber });
      }
    } finally {
      unlisten();
    }
  }
}
