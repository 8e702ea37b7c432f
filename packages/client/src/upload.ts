import { apiRequest, discard, isChuteUrl, throwIfAborted } from './api.js';
import { createLimiter } from './limit.js';
import { MULTIPART_THRESHOLD, uploadMultipart } from './multipart.js';
import { checkUploadResponse, send } from './transport.js';
import type { DirectUploadTarget, FileRecord, UploadOptions, UploadPhase, UploadProgress } from './types.js';

/** The multipart body of a direct upload: every field of `fields` in order, then `file` last. */
export function buildUploadForm(fields: Record<string, string>, file: Blob, fileName: string): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', file, fileName);
  return form;
}

/**
 * Uploads one file and resolves with its valid file record. Files of `multipartThreshold` bytes
 * or more (default 32 MiB) go in parts (see uploadMultipart: parallel, retried, resumable,
 * pausable). Smaller ones go in one request: Chute hands out a direct-upload target, the bytes go
 * straight to the storage (or to Chute's local endpoint), then Chute verifies them; on failure or
 * abort after the start, the pending record is deleted (best-effort).
 *
 * Rejects with ChuteApiError, StorageError, StorageUnreachableError, NetworkError or AbortError.
 */
export async function uploadFile(file: Blob, options: UploadOptions = {}): Promise<FileRecord> {
  if (file.size >= (options.multipartThreshold ?? MULTIPART_THRESHOLD)) return uploadMultipart(file, options);
  const { signal, onProgress, onPhase } = options;
  const fileName = options.fileName ?? (file as Partial<File>).name ?? 'file';
  const total = file.size;
  throwIfAborted(signal);

  onPhase?.('starting');
  const target = await apiRequest<DirectUploadTarget>(
    'POST',
    '/api/files/upload/direct/start/',
    { file_name: fileName, file_type: options.fileType || file.type || 'application/octet-stream', file_size: total },
    options,
  );
  options.onStarted?.(target);

  try {
    throwIfAborted(signal);
    onPhase?.('uploading');
    let sent = 0;
    const progress = (loaded: number) => {
      if (loaded > sent || !loaded) onProgress?.({ loaded: (sent = loaded), total } satisfies UploadProgress);
    };
    progress(0);
    const toChute = isChuteUrl(target.url, options.baseUrl);
    const result = await send('POST', target.url, buildUploadForm(target.fields, file, fileName), {
      ...options,
      // credentials go to Chute only, never to the storage (S3 refuses them through CORS)
      withCredentials: toChute && options.credentials === 'include',
      headers: toChute && options.token ? { Authorization: `Bearer ${options.token}` } : {},
      // the body holds the fields too: scale the request's progress to the file's bytes
      onProgress: onProgress && ((loaded, size) => progress(Math.min(total, Math.round((loaded / size) * total)))),
    });
    checkUploadResponse(result, toChute);
    progress(total);

    throwIfAborted(signal);
    onPhase?.('finishing');
    return await apiRequest<FileRecord>('POST', '/api/files/upload/direct/finish/', { file_id: target.id }, options);
  } catch (error) {
    await discard(`/api/files/${target.id}/`, options);
    throw error;
  }
}

export type UploadPhaseListener = (index: number, phase: UploadPhase, file: Blob) => void;

/** One entry of `uploadFiles`: a file, or a file with its own name/type overrides and signal. */
export interface UploadItem {
  file: Blob;
  fileName?: string;
  fileType?: string;
  signal?: AbortSignal;
}

export interface UploadFilesOptions
  extends Omit<
    UploadOptions,
    'fileName' | 'fileType' | 'onProgress' | 'onPhase' | 'onStarted' | 'onResume' | 'control' | 'concurrency'
  > {
  /** files uploading at once; default 3 */
  concurrency?: number;
  /** parts in flight per multipart upload (uploadFile's `concurrency`); default 4 */
  partConcurrency?: number;
  onFileProgress?: (index: number, progress: UploadProgress, file: Blob) => void;
  onFilePhase?: UploadPhaseListener;
  onFileComplete?: (index: number, record: FileRecord, file: Blob) => void;
  onFileError?: (index: number, error: Error, file: Blob) => void;
}

export type UploadResult = { ok: true; file: Blob; record: FileRecord } | { ok: false; file: Blob; error: Error };

/**
 * Uploads several files, `concurrency` at a time, in order. Never rejects: resolves with one
 * result per file, in input order. `signal` cancels every file not done yet.
 */
export function uploadFiles(
  files: Iterable<Blob | UploadItem>,
  options: UploadFilesOptions = {},
): Promise<UploadResult[]> {
  const {
    concurrency = 3,
    partConcurrency,
    onFileProgress,
    onFilePhase,
    onFileComplete,
    onFileError,
    ...shared
  } = options;
  const limit = createLimiter(concurrency);
  return Promise.all(
    Array.from(files, (entry, index) => {
      const item: UploadItem = entry instanceof Blob ? { file: entry } : entry;
      const { file } = item;
      return limit(() =>
        uploadFile(file, {
          ...shared,
          concurrency: partConcurrency,
          fileName: item.fileName,
          fileType: item.fileType,
          // aborts when either aborts
          signal: AbortSignal.any([shared.signal, item.signal].filter((signal) => !!signal) as AbortSignal[]),
          onProgress: onFileProgress && ((progress) => onFileProgress(index, progress, file)),
          onPhase: onFilePhase && ((phase) => onFilePhase(index, phase, file)),
        }),
      ).then(
        (record): UploadResult => {
          onFileComplete?.(index, record, file);
          return { ok: true, file, record };
        },
        (error: Error): UploadResult => {
          onFileError?.(index, error, file);
          return { ok: false, file, error };
        },
      );
    }),
  );
}
