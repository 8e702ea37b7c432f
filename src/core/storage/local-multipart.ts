import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, notFound } from '../../errors.js';
import { PRIVATE_DIR_MODE } from '../../fs-modes.js';
import { ByteLimiter } from './limit.js';
import { keepTouched, pipeToNewFile, removeIfUntouched } from './local-temp.js';
import { MULTIPART, type UploadedPart } from './types.js';

const UPLOAD_ID = /^[0-9a-f]{32}$/;
const PART_FILE = /^(\d{5})\.([0-9a-f]{32})$/;

/** Hashes what flows through it, for parts' ETags (MD5) and the whole file's SHA-256. */
class Hasher extends Transform {
  private readonly hash;
  constructor(algorithm: 'md5' | 'sha256') {
    super();
    this.hash = createHash(algorithm);
  }
  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }
  digest(encoding: 'hex' | 'base64'): string {
    return this.hash.digest(encoding);
  }
}

/**
 * S3-style multipart on local disk: each part is a file named by its number and MD5 under
 * <root>/.multipart/<uploadId>/; complete streams them, in order, into the object.
 */
export class LocalParts {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, '.multipart');
  }

  private uploadDir(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw notFound('multipartUpload');
    return join(this.dir, uploadId);
  }

  async create(): Promise<string> {
    const uploadId = randomBytes(16).toString('hex');
    await mkdir(this.uploadDir(uploadId), { recursive: true, mode: PRIVATE_DIR_MODE });
    return uploadId;
  }

  async receive({
    uploadId,
    partNumber,
    body,
    contentMd5,
    maxSize,
    exactSize,
  }: {
    uploadId: string;
    partNumber: number;
    body: Readable;
    contentMd5?: string | undefined;
    maxSize: number;
    /** the size the part's URL was signed for: a body of another is not kept */
    exactSize?: number | undefined;
  }): Promise<UploadedPart> {
    const dir = this.uploadDir(uploadId);
    if (!(await stat(dir).catch(() => null))) throw notFound('multipartUpload');
    const temp = join(dir, `.${randomUUID()}`);
    const limiter = new ByteLimiter(exactSize ?? maxSize);
    const md5 = new Hasher('md5');
    const stopTouching = keepTouched(temp);
    try {
      await pipeToNewFile(temp, body, limiter, md5);
      if (exactSize !== undefined && limiter.bytes !== exactSize) throw signedSizeMismatch(limiter.bytes, exactSize);
      const digest = md5.digest('hex');
      if (contentMd5 !== undefined && Buffer.from(digest, 'hex').toString('base64') !== contentMd5) {
        throw new AppError(
          'checksum_mismatch',
          'The part does not match its Content-MD5: it was corrupted on the way.',
        );
      }
      const name = `${String(partNumber).padStart(5, '0')}.${digest}`;
      for (const old of await this.partFiles(dir))
        if (old.partNumber === partNumber) await rm(join(dir, old.file), { force: true });
      await rename(temp, join(dir, name));
      return { partNumber, size: limiter.bytes, etag: `"${digest}"` };
    } catch (error) {
      await rm(temp, { force: true });
      // The upload was aborted or completed while this part streamed in: its folder, or the temp
      // file inside it (removed by the folder's recursive rm before the folder itself), is gone.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound('multipartUpload');
      throw error;
    } finally {
      stopTouching();
    }
  }

  private async partFiles(dir: string): Promise<Array<{ file: string; partNumber: number; md5: string }>> {
    const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw notFound('multipartUpload');
      throw error;
    });
    return names
      .map((file) => ({ file, match: PART_FILE.exec(file) }))
      .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
      .map(({ file, match }) => ({ file, partNumber: Number(match[1]), md5: match[2]! }))
      .sort((a, b) => a.partNumber - b.partNumber);
  }

  async list(uploadId: string): Promise<UploadedPart[]> {
    const dir = this.uploadDir(uploadId);
    const parts: UploadedPart[] = [];
    for (const part of await this.partFiles(dir)) {
      const info = await stat(join(dir, part.file)).catch((error: NodeJS.ErrnoException) => {
        // replaced by a re-sent part since the folder was read: the listing is of that moment
        if (error.code === 'ENOENT') return null;
        throw error;
      });
      if (info) parts.push({ partNumber: part.partNumber, size: info.size, etag: `"${part.md5}"` });
    }
    return parts;
  }

  /**
   * Joins the listed parts into `target` (atomically) and returns the whole file's SHA-256. Like
   * S3, it answers a repeat as done: an earlier complete that joined the parts and then failed
   * (its check of the object, its database write) left the object and no parts.
   */
  async complete({
    uploadId,
    parts,
    target,
  }: {
    uploadId: string;
    parts: Array<{ partNumber: number; etag: string }>;
    target: string;
  }): Promise<{ sha256: string }> {
    const dir = this.uploadDir(uploadId);
    const listed = await this.list(uploadId).catch(async (error: unknown) => {
      if (error instanceof AppError && error.code === 'not_found' && (await stat(target).catch(() => null)))
        return null;
      throw error;
    });
    if (!listed) {
      const sha256 = new Hasher('sha256');
      await pipeline(createReadStream(target), sha256, new Writable({ write: (_chunk, _encoding, done) => done() }));
      return { sha256: sha256.digest('hex') };
    }
    const stored = new Map(listed.map((part) => [part.partNumber, part]));
    const chosen = parts.map((part, index) => {
      const found = stored.get(part.partNumber);
      if (!found || found.etag.replaceAll('"', '') !== part.etag.replaceAll('"', '')) {
        throw new AppError('upload_rejected', `Part ${part.partNumber} was not uploaded or its ETag does not match.`, {
          storage_code: 'InvalidPart',
        });
      }
      if (index > 0 && part.partNumber <= parts[index - 1]!.partNumber) {
        throw new AppError('upload_rejected', 'Parts must be listed in ascending order.', {
          storage_code: 'InvalidPartOrder',
        });
      }
      if (index < parts.length - 1 && found.size < MULTIPART.minPartSize) {
        throw new AppError(
          'part_too_small',
          `Part ${part.partNumber} is smaller than 5 MiB; only the last part may be.`,
        );
      }
      return join(dir, `${String(part.partNumber).padStart(5, '0')}.${found.etag.replaceAll('"', '')}`);
    });
    const temp = join(dir, `.${randomUUID()}`);
    const sha256 = new Hasher('sha256');
    const stopTouching = keepTouched(temp);
    try {
      const joined = (async function* () {
        for (const path of chosen) yield* createReadStream(path, { highWaterMark: 1024 * 1024 });
      })();
      await pipeToNewFile(temp, Readable.from(joined), sha256);
      await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // a part re-sent while they were joined: the client completes again with what it has now
        throw new AppError(
          'upload_rejected',
          'A part was sent again while the parts were being joined; complete the upload again.',
          { storage_code: 'InvalidPart' },
        );
      }
      throw error;
    } finally {
      stopTouching();
    }
    await removeUploadDir(dir);
    return { sha256: sha256.digest('hex') };
  }

  async abort(uploadId: string): Promise<void> {
    await removeUploadDir(this.uploadDir(uploadId));
  }

  /**
   * Removes the temp files (a part being received or joined) untouched since `before`, and the
   * folders, as old, of upload ids `isOpenUpload` denies: a folder is made before its record holds
   * the id, so a young one may be an upload being created. Returns how many went.
   */
  async removeOrphans({
    before,
    isOpenUpload,
  }: {
    before: number;
    isOpenUpload?: ((uploadId: string) => Promise<boolean>) | undefined;
  }): Promise<number> {
    let removed = 0;
    for (const uploadId of await readdir(this.dir).catch(() => [])) {
      if (!UPLOAD_ID.test(uploadId)) continue;
      const dir = join(this.dir, uploadId);
      if (isOpenUpload && !(await isOpenUpload(uploadId))) {
        if (await removeIfUntouched(dir, before)) removed += 1;
        continue;
      }
      for (const name of await readdir(dir).catch(() => [])) {
        if (name.startsWith('.') && (await removeIfUntouched(join(dir, name), before))) removed += 1;
      }
    }
    return removed;
  }
}

/** A body of another size than its URL was signed for (a part, or a whole file by one PUT). */
export const signedSizeMismatch = (size: number, signed: number) =>
  new AppError('upload_size_mismatch', `The body has ${size} bytes, not the ${signed} its URL was signed for.`, {
    size,
    signed_size: signed,
  });

/**
 * A part arriving meanwhile may add a file between the listing and the rmdir (ENOTEMPTY): rm tries
 * again, and once the folder is gone such a part finds no folder and answers not_found.
 */
const removeUploadDir = (dir: string) => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
