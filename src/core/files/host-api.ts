// The server-side files API: what the host's own code does with files outside a browser request
// (a signed link in a page it renders, a PDF it generated, a delete when an order is cancelled).
// The host is trusted: no authentication, no onUploadStart; onUploadFinished and onFileDeleted
// are told as for any upload. Every call goes through the services the routes use.
import { Readable } from 'node:stream';
import { AppError, isAppError } from '../../errors.js';
import { actorIdOf, SYSTEM_ACTOR, type OutsideUserId } from '../actor.js';
import { MAX_SIGNED_SECONDS } from '../storage/types.js';
import { fileJson, fileUrl, type FileJson } from './json.js';
import { MAX_ID, type FileRecord } from './repository.js';
import { filePage } from './selectors.js';
import { fileDelete, fileStandardUpload, type FilesContext } from './services.js';
import { fileGetSettled, fileListSettled } from './settle.js';

/** A file's id as the host holds it: the number from a record, or that number as a string (a route param). */
export type HostFileId = number | string;

export interface HostPut {
  /** whose file it is: the host's user id */
  user: OutsideUserId;
  fileName: string;
  /** the media type; guessed from the name when empty or application/octet-stream, as for a standard upload */
  fileType: string;
  body: Buffer | Uint8Array | Readable;
}

export interface HostFiles {
  /** Stores a file as `user`'s, with a standard upload's checks (name, type, size, content); valid at once. */
  put(upload: HostPut): Promise<FileJson>;
  /** The record (any user's), or null; a pending single PUT is settled first. */
  get(id: HostFileId): Promise<FileJson | null>;
  /** A page of `user`'s files, newest first: limit 1 to 100 (20 unless given). */
  list(query: {
    user: OutsideUserId;
    limit?: number;
    offset?: number;
  }): Promise<{ count: number; results: FileJson[] }>;
  /** A download URL living `expiresIn` seconds (the configured URL expiry unless given); null when no valid file has this id. */
  url(id: HostFileId, options?: { expiresIn?: number }): Promise<string | null>;
  /** Deletes the object and the record (an open upload is aborted); false when there was no such file. */
  delete(id: HostFileId): Promise<boolean>;
}

/** A record id, or null for one that names no record. */
function recordIdOf(id: HostFileId): number | null {
  const value = typeof id === 'number' ? id : /^[0-9]{1,15}$/.test(id) ? Number(id) : Number.NaN;
  return Number.isSafeInteger(value) && value >= 1 && value <= MAX_ID ? value : null;
}

/** Runs `read`, turning not_found into null. */
async function orNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (isAppError(error) && error.code === 'not_found') return null;
    throw error;
  }
}

const asStream = (body: HostPut['body']): Readable =>
  body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : body;

function checkedExpiry(ctx: FilesContext, expiresIn: number | undefined): number {
  if (expiresIn === undefined) return ctx.policy.urlExpiry;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_SIGNED_SECONDS)
    throw new AppError('validation_failed', `expiresIn is a whole number of seconds from 1 to ${MAX_SIGNED_SECONDS}.`);
  return expiresIn;
}

export function hostFiles(ctx: FilesContext): HostFiles {
  const record = (id: HostFileId): Promise<FileRecord | null> => {
    const fileId = recordIdOf(id);
    return fileId === null ? Promise.resolve(null) : orNull(() => fileGetSettled(ctx, { actor: SYSTEM_ACTOR, fileId }));
  };
  return {
    async put({ user, fileName, fileType, body }) {
      const file = await fileStandardUpload(ctx, {
        uploadedBy: actorIdOf(user),
        body: asStream(body),
        fileName,
        clientType: fileType,
      });
      return fileJson(ctx, file);
    },
    async get(id) {
      const file = await record(id);
      return file && fileJson(ctx, file);
    },
    async list({ user, ...query }) {
      const actor = { id: actorIdOf(user), isStaff: false };
      const { count, files } = await fileListSettled(ctx, { actor, ...filePage(query) });
      return { count, results: await Promise.all(files.map((file) => fileJson(ctx, file))) };
    },
    async url(id, { expiresIn } = {}) {
      const seconds = checkedExpiry(ctx, expiresIn);
      const file = await record(id);
      return file && fileUrl(ctx, file, seconds);
    },
    async delete(id) {
      const fileId = recordIdOf(id);
      if (fileId === null) return false;
      return (await orNull(() => fileDelete(ctx, { actor: SYSTEM_ACTOR, fileId }))) !== null;
    },
  };
}
