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

export interface UploadOptions extends ChuteOptions {
  /** Name to record instead of `file.name`. */
  fileName?: string;
  /** MIME type to declare instead of `file.type` (fallback "application/octet-stream"). */
  fileType?: string;
  /** Aborts the upload; rejects with AbortError and discards the pending record (best-effort). */
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  onPhase?: (phase: UploadPhase) => void;
  /** Called with the pending record's id once Chute has accepted the start request. */
  onStarted?: (target: DirectUploadTarget) => void;
}
