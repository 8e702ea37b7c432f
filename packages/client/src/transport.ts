import { apiError } from './api.js';
import { AbortError, NetworkError, StorageError, StorageUnreachableError } from './errors.js';
import { parseStorageError } from './s3.js';

export interface SendResult {
  /** 0 when there was no readable answer (CORS refusal or network failure) */
  status: number;
  body: string;
  /** the answer's ETag header; null when absent or not exposed by CORS */
  etag?: string | null;
}

export interface SendOptions {
  headers?: Record<string, string>;
  withCredentials?: boolean;
  signal?: AbortSignal;
  /** raw upload progress of the request body (browsers: as it goes; fetch: once, at the end) */
  onProgress?: (loaded: number, total: number) => void;
  /** fetch implementation where there is no XMLHttpRequest (Node); default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Sends a body (FormData or Blob) and resolves with the answer, whatever its status. Rejects only
 * with AbortError. Uses XMLHttpRequest where there is one (browsers: upload progress), else fetch
 * (Node 20: a file-backed Blob from `fs.openAsBlob` is streamed from disk).
 */
export function send(method: string, url: string, body: FormData | Blob, options: SendOptions = {}): Promise<SendResult> {
  const { signal, onProgress, headers = {} } = options;
  if (signal?.aborted) return Promise.reject(new AbortError());
  if (typeof XMLHttpRequest == 'undefined') {
    return (options.fetch ?? fetch)(url, { method, body, headers, signal, credentials: options.withCredentials ? 'include' : 'omit' })
      .then(async (response) => {
        const result = { status: response.status, body: await response.text(), etag: response.headers.get('etag') };
        const size = (body as Blob).size || 0;
        onProgress?.(size, size);
        return result;
      })
      // no answer, or one cut off while its body was read: no readable answer either way
      .catch(() => {
        if (signal?.aborted) throw new AbortError();
        return { status: 0, body: '' };
      });
  }
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const settle = (result?: SendResult) => {
      signal?.removeEventListener('abort', abort);
      if (result) resolve(result);
      else reject(new AbortError());
    };
    xhr.open(method, url);
    xhr.withCredentials = !!options.withCredentials;
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) {
      // a listener on xhr.upload makes a cross-origin request "preflighted": the bucket's CORS must allow the method
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      };
    }
    xhr.onload = () => settle({ status: xhr.status, body: xhr.status ? xhr.responseText : '', etag: xhr.getResponseHeader('etag') });
    xhr.onerror = xhr.ontimeout = () => settle({ status: 0, body: '' });
    xhr.onabort = () => settle();
    signal?.addEventListener('abort', abort);
    xhr.send(body);
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
