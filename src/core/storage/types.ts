import type { Readable } from 'node:stream';

export interface StoredObject {
  size: number;
  /** null where the backend keeps no type (local disk) */
  contentType: string | null;
}

export interface DirectUploadTarget {
  url: string;
  fields: Record<string, string>;
}

export interface DirectUploadRequest {
  key: string;
  fileId: number;
  contentType: string;
  /** the inclusive byte range the storage must enforce */
  minSize: number;
  maxSize: number;
  expiresIn: number;
}

export interface PutRequest {
  key: string;
  body: Readable;
  contentType: string;
  maxSize: number;
}

export interface DownloadUrlRequest {
  key: string;
  fileName: string;
  contentType: string;
  expiresIn: number;
}

/**
 * A place where file bytes live. Every backend passes the shared suite in
 * test/storage.shared.ts. Failures to reach the storage surface as AppError storage_unavailable.
 */
export interface StorageBackend {
  readonly kind: 'local' | 's3';
  /** Where and how the browser sends the bytes. Makes no network call. */
  createDirectUpload(request: DirectUploadRequest): Promise<DirectUploadTarget>;
  /**
   * Streams `body` to `key`. Past maxSize it stops reading and throws file_too_large; an empty
   * body throws file_empty. On any failure nothing is left at `key`.
   */
  put(request: PutRequest): Promise<{ size: number }>;
  head(key: string): Promise<StoredObject | null>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  downloadUrl(request: DownloadUrlRequest): Promise<string>;
  /** Throws storage_unavailable when the storage cannot be reached. */
  ping(): Promise<void>;
}
