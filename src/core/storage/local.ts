import { randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { access, constants, type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { AppError, notFound } from '../../errors.js';
import { PRIVATE_DIR_MODE } from '../../fs-modes.js';
import type { UrlSigner } from '../signing.js';
import { ByteLimiter } from './limit.js';
import { LocalParts } from './local-multipart.js';
import { keepTouched, pipeToNewFile, removeIfUntouched, TEMP_ORPHAN_MS } from './local-temp.js';
import type {
  CompleteMultipartRequest,
  DirectUploadRequest,
  DirectUploadTarget,
  DownloadUrlRequest,
  PutRequest,
  SignedRequest,
  SignPartRequest,
  SignPutRequest,
  StorageBackend,
  StoredObject,
  UploadedPart,
} from './types.js';

const TEMP_DIR = '.tmp';

// What the file system says when the media folder itself is unusable (not the request's fault)
const STORAGE_DOWN = new Set(['ENOTDIR', 'EACCES', 'EPERM', 'ENOSPC', 'EROFS', 'EIO', 'EDQUOT', 'EMFILE', 'ENFILE']);

function asStorageError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code && STORAGE_DOWN.has(code)) {
    return new AppError('storage_unavailable', 'The file storage cannot be written right now. Try again later.', {
      reason: code,
    });
  }
  return error;
}

export interface LocalStorageOptions {
  root: string;
  /** absolute origin the browser reaches Chute at: direct uploads and downloads point there */
  appDomain: string;
  signer: UrlSigner;
}

export class LocalStorage implements StorageBackend {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly appDomain: string;
  private readonly signer: UrlSigner;
  readonly parts: LocalParts;

  constructor(options: LocalStorageOptions) {
    this.root = resolve(options.root);
    this.appDomain = options.appDomain;
    this.signer = options.signer;
    this.parts = new LocalParts(this.root);
  }

  /** The absolute path of a key; refuses anything that would leave the media root. */
  pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (
      !path.startsWith(this.root + sep) ||
      key.includes('\0') ||
      key.split('/').some((segment) => segment.startsWith('.'))
    ) {
      throw notFound();
    }
    return path;
  }

  async createDirectUpload({ fileId }: DirectUploadRequest): Promise<DirectUploadTarget> {
    return { url: `${this.appDomain}/api/files/upload/direct/local/${fileId}/`, fields: {} };
  }

  async put({ key, body, maxSize }: PutRequest): Promise<{ size: number }> {
    const target = this.pathOf(key);
    const tempDir = join(this.root, TEMP_DIR);
    await mkdir(tempDir, { recursive: true, mode: PRIVATE_DIR_MODE }).catch((error: NodeJS.ErrnoException) => {
      // EEXIST here: something that is not a folder sits where the temp folder goes
      throw asStorageError(error.code === 'EEXIST' ? Object.assign(error, { code: 'ENOTDIR' }) : error);
    });
    // Bytes land in a temp file and are renamed into place only when complete, so a cut or
    // oversize upload never leaves a partial file where it could be served.
    const temp = join(tempDir, randomUUID());
    const limiter = new ByteLimiter(maxSize);
    const stopTouching = keepTouched(temp);
    try {
      await pipeToNewFile(temp, body, limiter);
      if (limiter.bytes === 0) throw new AppError('file_empty', 'The submitted file is empty.');
      await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
      await rename(temp, target);
      return { size: limiter.bytes };
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw asStorageError(error);
    } finally {
      stopTouching();
    }
  }

  async head(key: string, { firstBytes = 0 }: { firstBytes?: number } = {}): Promise<StoredObject | null> {
    if (firstBytes > 0) return this.headWithFirstBytes(key, firstBytes);
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { size: info.size, contentType: null, firstBytes: Buffer.alloc(0) } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw asStorageError(error);
    }
  }

  /** Size and first bytes from one open file: they describe the same object even if it is replaced meanwhile. */
  private async headWithFirstBytes(key: string, length: number): Promise<StoredObject | null> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.pathOf(key), 'r');
      const info = await handle.stat();
      if (!info.isFile()) return null;
      const buffer = Buffer.alloc(Math.min(length, info.size));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return { size: info.size, contentType: null, firstBytes: buffer.subarray(0, bytesRead) };
    } catch (error) {
      // a folder at the key is no object, as a plain head says
      if (['ENOENT', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
      throw asStorageError(error);
    } finally {
      await handle?.close();
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true }).catch((error: unknown) => {
      throw asStorageError(error);
    });
  }

  async downloadUrl({ key, expiresIn }: DownloadUrlRequest): Promise<string> {
    const expires = Math.floor(Date.now() / 1000) + expiresIn;
    const signature = this.signer.sign(key, expires);
    const path = key.split('/').map(encodeURIComponent).join('/');
    return `${this.appDomain}/media/${path}?expires=${expires}&signature=${signature}`;
  }

  verifyDownload(key: string, expires: number, signature: string): boolean {
    return this.signer.verify(key, expires, signature);
  }

  openRead(key: string): ReadStream {
    return createReadStream(this.pathOf(key));
  }

  // Multipart: parts go to Chute itself, to URLs signed like S3's, so the client code is the same.

  async createMultipart(): Promise<{ uploadId: string }> {
    return { uploadId: await this.parts.create() };
  }

  /** A URL whose signature covers the payload; a pinned size travels in it as `size` (and is signed). */
  private signed(path: string, payload: string, expiresIn: number, size: number | undefined): string {
    const expires = Math.floor(Date.now() / 1000) + expiresIn;
    const pinned = size === undefined ? '' : `&size=${size}`;
    return `${this.appDomain}${path}?expires=${expires}&signature=${this.signer.sign(payload, expires)}${pinned}`;
  }

  static partPayload = (
    uploadId: string,
    partNumber: number,
    contentMd5: string | undefined,
    size: number | undefined,
  ) => `part\n${uploadId}\n${partNumber}\n${contentMd5 ?? ''}\n${size ?? ''}`;
  static putPayload = (key: string, size: number | undefined) => `put\n${key}\n${size ?? ''}`;

  async signPart({
    uploadId,
    partNumber,
    contentMd5,
    contentLength,
    expiresIn,
  }: SignPartRequest): Promise<SignedRequest> {
    const path = `/api/files/upload/multipart/local/${uploadId}/${partNumber}/`;
    const url = this.signed(
      path,
      LocalStorage.partPayload(uploadId, partNumber, contentMd5, contentLength),
      expiresIn,
      contentLength,
    );
    return { method: 'PUT', url, headers: contentMd5 ? { 'Content-MD5': contentMd5 } : {} };
  }

  verifySigned(payload: string, expires: number, signature: string): boolean {
    return this.signer.verify(payload, expires, signature);
  }

  async listParts({ uploadId }: { uploadId: string }): Promise<UploadedPart[]> {
    return this.parts.list(uploadId);
  }

  async completeMultipart({ key, uploadId, parts }: CompleteMultipartRequest): Promise<{ sha256: string | null }> {
    return this.parts.complete({ uploadId, parts, target: this.pathOf(key) });
  }

  async abortMultipart({ uploadId }: { uploadId: string }): Promise<void> {
    await this.parts.abort(uploadId);
  }

  async signPut({ key, contentType, contentLength, expiresIn }: SignPutRequest): Promise<SignedRequest> {
    const url = this.signed(
      '/api/files/upload/put/local/',
      LocalStorage.putPayload(key, contentLength),
      expiresIn,
      contentLength,
    );
    return { method: 'PUT', url: `${url}&key=${encodeURIComponent(key)}`, headers: { 'Content-Type': contentType } };
  }

  async ping(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true, mode: PRIVATE_DIR_MODE });
      await access(this.root, constants.W_OK);
    } catch (error) {
      throw new AppError('storage_unavailable', `The media folder ${this.root} is not writable.`, {
        reason: String(error),
      });
    }
  }

  /**
   * Removes what uploads of dead processes left behind: temp files untouched for `olderThanMs`
   * (a live upload's process keeps touching its own, see local-temp.ts), and, when
   * `isOpenUpload` is given, the part folders of upload ids no open upload has. At boot (no
   * database at hand) only the temp files go. Returns how many files and folders were removed.
   */
  async removeStaleTempFiles({
    olderThanMs = TEMP_ORPHAN_MS,
    now = Date.now(),
    isOpenUpload,
  }: {
    olderThanMs?: number;
    now?: number;
    isOpenUpload?: (uploadId: string) => Promise<boolean>;
  } = {}): Promise<number> {
    const before = now - olderThanMs;
    const tempDir = join(this.root, TEMP_DIR);
    let removed = 0;
    for (const name of await readdir(tempDir).catch(() => [])) {
      if (await removeIfUntouched(join(tempDir, name), before)) removed += 1;
    }
    return removed + (await this.parts.removeOrphans({ before, isOpenUpload }));
  }
}
