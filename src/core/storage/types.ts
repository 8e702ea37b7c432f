import type { Readable } from 'node:stream';

export interface StoredObject {
  size: number;
  /** null where the backend keeps no type (local disk) */
  contentType: string | null;
  /** the object's first bytes, as many as asked for (fewer when it is shorter) */
  firstBytes: Buffer;
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
export interface StorageBackend extends MultipartStorage {
  readonly kind: 'local' | 's3';
  /** Where and how the browser sends the bytes. Makes no network call. */
  createDirectUpload(request: DirectUploadRequest): Promise<DirectUploadTarget>;
  /**
   * Streams `body` to `key`. Past maxSize it stops reading and throws file_too_large; an empty
   * body throws file_empty. On any failure nothing is left at `key`.
   */
  put(request: PutRequest): Promise<{ size: number }>;
  /**
   * What the storage holds at `key`, null when nothing. With `firstBytes`, also that many of its
   * first bytes, in the same request (S3: one ranged GET instead of a HEAD).
   */
  head(key: string, options?: { firstBytes?: number }): Promise<StoredObject | null>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  downloadUrl(request: DownloadUrlRequest): Promise<string>;
  /** Throws storage_unavailable when the storage cannot be reached. */
  ping(): Promise<void>;
}

export interface UploadedPart {
  partNumber: number;
  size: number;
  /** quoted, as S3 gives it */
  etag: string;
}

export interface SignedRequest {
  method: 'PUT';
  url: string;
  /** headers the client must send with exactly these values */
  headers: Record<string, string>;
}

/** S3's size rules (one request, parts, objects), which the local backend follows too so clients behave the same. */
export const MULTIPART = {
  maxSingleUpload: 5 * 2 ** 30,
  minPartSize: 5 * 2 ** 20,
  maxPartSize: 5 * 2 ** 30,
  maxParts: 10_000,
  maxObjectSize: 5 * 2 ** 40,
} as const;

/** The longest an S3 (SigV4) signed URL lives: a week. */
export const MAX_SIGNED_SECONDS = 7 * 24 * 3600;

/**
 * Large files in parts, each sent by the client straight to a signed URL, in parallel, resumable
 * (listParts tells what arrived). Both backends implement it.
 */
export interface MultipartStorage {
  createMultipart(request: { key: string; contentType: string }): Promise<{ uploadId: string }>;
  /** a signed PUT for one part; with contentMd5 (base64) the storage checks the part's bytes */
  signPart(request: SignPartRequest): Promise<SignedRequest>;
  listParts(request: { key: string; uploadId: string }): Promise<UploadedPart[]>;
  /** joins the parts into the object; sha256 is returned where the backend computes it */
  completeMultipart(request: CompleteMultipartRequest): Promise<{ sha256: string | null }>;
  abortMultipart(request: { key: string; uploadId: string }): Promise<void>;
  /** a signed single PUT of a whole object (what Uppy uses for small files) */
  signPut(request: SignPutRequest): Promise<SignedRequest>;
}

export interface CompleteMultipartRequest {
  key: string;
  uploadId: string;
  parts: Array<{ partNumber: number; etag: string }>;
}

export interface SignPartRequest {
  key: string;
  uploadId: string;
  partNumber: number;
  contentMd5?: string | undefined;
  /** the part's exact size, where it is known: the storage refuses a body of any other */
  contentLength?: number | undefined;
  expiresIn: number;
}

export interface SignPutRequest {
  key: string;
  contentType: string;
  /** the file's exact size, where it is known: the storage refuses a body of any other */
  contentLength?: number | undefined;
  expiresIn: number;
}
