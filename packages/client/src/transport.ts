import { apiError } from './api.js';
import { AbortError, NetworkError, StorageError, StorageUnreachableError } from './errors.js';
import { createLimiter, type Limiter } from './limit.js';
import { parseStorageError } from './s3.js';
import type { UploadOptions } from './types.js';

export interface SendResult {
  /** 0 when there was no readable answer (CORS refusal or network failure) */
  status: number;
  body: string;
  /** the answer's ETag header; null when absent or not exposed by CORS */
  etag?: string | null;
}

export interface SendOptions extends Pick<UploadOptions, 'fetch' | 'stallTimeout' | 'hostConcurrency'> {
  headers?: Record<string, string>;
  withCredentials?: boolean;
  signal?: AbortSignal;
  /** raw upload progress of the request body, as it goes */
  onProgress?: (loaded: number, total: number) => void;
}

/** Sends a request by fetch; resolves with the answer, rejects when there is none. */
export type FetchTransfer = (
  method: string,
  url: string,
  body: FormData | Blob,
  options: SendOptions,
  signal: AbortSignal,
  /** to be told the bytes sent as they go: every call restarts the stall timer */
  progress: (loaded: number, total: number) => void,
) => Promise<SendResult>;

/**
 * How requests go where there is no XMLHttpRequest: Node's entry of the package (node.ts) sets
 * fetch here, so that browsers, which all have XMLHttpRequest, do not download it.
 */
export const transfers: { fetch?: FetchTransfer } = {};

const hosts: Record<string, Limiter> = {};

/**
 * Sends a body (FormData or Blob) and resolves with the answer, whatever its status. Rejects only
 * with AbortError. Uses XMLHttpRequest where there is one (browsers), else `transfers.fetch`
 * (Node).
 *
 * At most `hostConcurrency` requests go to a host at once, the others wait here: a request the
 * browser held back for a free connection (6 per host) would make no progress and look stalled.
 * One that sends no byte for `stallTimeout` ms (after its last byte: for as long again as the
 * sending took, plus `stallTimeout`, for the storage to answer) is cut: a dead connection fails
 * in a minute instead of when the OS gives up, and a part is sent again.
 */
export function send(
  method: string,
  url: string,
  body: FormData | Blob,
  options: SendOptions = {},
): Promise<SendResult> {
  const { signal, onProgress, headers = {}, stallTimeout = 60_000, hostConcurrency = 6 } = options;
  const limit = (hosts[hostConcurrency + new URL(url, 'a:/').host] ??= createLimiter(hostConcurrency));
  return new Promise((resolve, reject) => {
    // aborted by the caller (rejects at once, also while waiting for a slot) or on a stall (no answer)
    const stop = new AbortController();
    const abort = () => {
      stop.abort();
      reject(new AbortError());
    };
    if (signal?.aborted) abort();
    signal?.addEventListener('abort', abort);
    limit(async () => {
      if (stop.signal.aborted) return;
      const start = Date.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const progress = (loaded: number, total: number) => {
        clearTimeout(timer);
        if (stallTimeout)
          timer = setTimeout(() => stop.abort(), stallTimeout + (loaded < total ? 0 : Date.now() - start));
        if (loaded) onProgress?.(loaded, total);
      };
      progress(0, 1);
      try {
        if (typeof XMLHttpRequest == 'undefined') {
          resolve(await transfers.fetch!(method, url, body, options, stop.signal, progress));
        } else {
          await new Promise((done) => {
            const xhr = new XMLHttpRequest();
            xhr.open(method, url);
            xhr.withCredentials = !!options.withCredentials;
            for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
            // a listener on xhr.upload makes a cross-origin request "preflighted": the bucket's CORS must allow the method
            xhr.upload.onprogress = (event) => {
              if (event.lengthComputable) progress(event.loaded, event.total);
            };
            xhr.onload = () =>
              done(
                resolve({
                  status: xhr.status,
                  body: xhr.status ? xhr.responseText : '',
                  etag: xhr.getResponseHeader('etag'),
                }),
              );
            xhr.onerror = xhr.onabort = done;
            stop.signal.onabort = () => xhr.abort();
            xhr.send(body);
          });
        }
      } catch {
        // no answer: a network failure or a stall
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        resolve({ status: 0, body: '' });
      }
    });
  });
}

/** Turns the storage's (or Chute's local endpoint's) answer into success or a typed error. */
export function checkUploadResponse(result: SendResult, toChute: boolean): void {
  const { status, body } = result;
  if (status >= 200 && status < 300) return;
  if (toChute) throw status ? apiError(status, body) : new NetworkError();
  if (!status) throw new StorageUnreachableError();
  const parsed = parseStorageError(body);
  throw parsed
    ? new StorageError(status, parsed.code, parsed.message, parsed.details)
    : new StorageError(status, `HTTP_${status}`, body.slice(0, 200).trim());
}
