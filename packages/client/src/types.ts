import type { UploadControl } from './control.js';
import type { ResumeStore } from './resume.js';
import type { RetryInfo } from './retry.js';

/** A file as Chute returns it. */
export interface FileRecord {
  id: number;
  original_file_name: string;
  file_name: string;
  file_type: string;
  file_size: number | null;
  /** Expiring download URL (presigned/signed); null until the file is valid. */
  url: string | null;
  is_valid: boolean;
  upload_finished_at: string | null;
  created_at: string;
  uploaded_by: number | null;
}

export interface User {
  id: number;
  email: string;
  is_staff: boolean;
}

export interface FilePage {
  count: number;
  limit: number;
  offset: number;
  results: FileRecord[];
}

export interface LoginResult {
  /** Bearer token; browsers on Chute's own origin can ignore it and rely on the HttpOnly cookie. */
  session: string;
  user: User;
}

/** What `POST /api/files/upload/direct/start/` answers. */
export interface DirectUploadTarget {
  id: number;
  url: string;
  fields: Record<string, string>;
}

/** How to reach Chute. Shared by every call. */
export interface ChuteOptions {
  /** Chute's base URL, e.g. "https://files.example.com". Default "" (same origin as the page). */
  baseUrl?: string;
  /** Session token sent as `Authorization: Bearer <token>` to Chute (never to the storage). */
  token?: string;
  /**
   * Cookie mode for calls to Chute. Use "include" when Chute is on another origin and you rely
   * on its session cookie. Default "same-origin". Never applies to the storage.
   */
  credentials?: RequestCredentials;
  /** fetch implementation; default globalThis.fetch. */
  fetch?: typeof fetch;
}

export interface UploadProgress {
  /** bytes of the file sent so far */
  loaded: number;
  /** the file's size in bytes */
  total: number;
}

export type UploadPhase = 'starting' | 'uploading' | 'finishing';

/** What `POST /api/files/upload/multipart/` answers. */
export interface MultipartTarget {
  id: number;
  key: string;
  upload_id: string;
  part_size: number;
}

/**
 * Integrity checks of a multipart upload, e.g. `createChecksums` from `@chute/client/checksums`.
 * `part` is called for every part in order (also for parts a resumed upload skips), each once.
 */
export interface Checksums {
  /** base64 MD5 of one part: sent as Content-MD5, which the storage checks */
  part(data: Blob): Promise<string>;
  /** hex SHA-256 of everything given to part(), in order: the whole file */
  digest(): Promise<string>;
  close?(): void;
}

export type ChecksumsFactory = () => Checksums | Promise<Checksums>;

/** Told when a multipart upload continues one started before (a reload, a network cut). */
export interface ResumeInfo {
  /** bytes the storage already has, which will not be sent again */
  uploadedBytes: number;
  uploadedParts: number;
  totalParts: number;
}

/** Options of large files, sent in parts (files of `multipartThreshold` bytes or more). */
export interface MultipartOptions {
  /** files of this size or more go multipart; default 32 MiB (MULTIPART_THRESHOLD) */
  multipartThreshold?: number;
  /** parts in flight at once; default 4 */
  concurrency?: number;
  /** retries of each request after its first try; default 5 */
  retries?: number;
  /** backoff base in ms: a retry waits a random time up to retryDelay * 2^n, at most 30 s; default 1000 */
  retryDelay?: number;
  onRetry?: (info: RetryInfo) => void;
  /** where resumable uploads are remembered; default localStorage (memory in Node); false: never resume */
  resumeStore?: ResumeStore | false;
  /** Content-MD5 of each part and the whole file's SHA-256; none by default */
  checksums?: ChecksumsFactory;
  /** pause and resume */
  control?: UploadControl;
  onResume?: (info: ResumeInfo) => void;
}

export interface UploadOptions extends ChuteOptions, MultipartOptions {
  /** Name to record instead of `file.name`. */
  fileName?: string;
  /** MIME type to declare instead of `file.type` (fallback "application/octet-stream"). */
  fileType?: string;
  /** Aborts the upload; rejects with AbortError and discards the pending record (best-effort). */
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  onPhase?: (phase: UploadPhase) => void;
  /** Called with the pending record's id once Chute has accepted the start request (single request). */
  onStarted?: (target: DirectUploadTarget) => void;
  /**
   * ms a request to the storage may send no byte before it counts as a network failure (a part is
   * sent again); after its last byte, the answer may take that plus as long as the sending took.
   * 0: never. Default 60 s.
   */
  stallTimeout?: number;
  /** requests to the storage in flight per host at once, shared by every upload; default 6 */
  hostConcurrency?: number;
}
