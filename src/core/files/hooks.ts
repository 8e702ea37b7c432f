// The host's say in uploads: onUploadStart may refuse one before its record exists (throw; an
// UploadRefusedError is answered as its status and code); onUploadFinished and onFileDeleted hear
// of each file once, after the change is committed. Those two are told, not asked: whatever they
// throw is logged and the file stays as it is.
import { UploadRefusedError } from '../../errors.js';
import type { Actor } from '../actor.js';
import { fileJson, type FileJson } from './json.js';
import type { FileRecord } from './repository.js';
import type { FilesContext } from './services.js';

export { UploadRefusedError };

export interface UploadStartEvent {
  user: Actor;
  /** the original name, checked */
  fileName: string;
  /** the media type the record will have, checked */
  fileType: string;
  /** bytes, when the client announced them (a standard upload's size is known only once stored) */
  fileSize?: number;
}

export interface UploadHooks {
  /** Before a user's upload gets a record (direct start, standard upload, multipart and Uppy creates): throw to refuse. */
  onUploadStart?(event: UploadStartEvent): void | Promise<void>;
  /** Once per file, when it becomes valid; awaited before the request is answered. */
  onUploadFinished?(file: FileJson): void | Promise<void>;
  /** Once per valid file, after its object and record are gone (`url` is null). */
  onFileDeleted?(file: FileJson): void | Promise<void>;
}

/** Where a failing hook is reported: pino's logger (Fastify's `app.log`) fits, and so does a console wrapper. */
export interface HookLogger {
  error(details: Record<string, unknown>, message: string): void;
}

const consoleLog: HookLogger = { error: (details, message) => console.error(message, details) };

type HookContext = Pick<FilesContext, 'hooks' | 'log' | 'storage' | 'policy'>;

/** Asks the host whether this upload may start; its refusal is thrown as it is. */
export async function askUploadStart(
  ctx: HookContext,
  { fileSize, ...event }: Omit<UploadStartEvent, 'fileSize'> & { fileSize?: number | null | undefined },
): Promise<void> {
  await ctx.hooks?.onUploadStart?.(fileSize === null || fileSize === undefined ? event : { ...event, fileSize });
}

/** Tells the host a file became valid: call it only from the request whose state change won. */
export const announceFinished = (ctx: HookContext, file: FileRecord): Promise<void> =>
  announce(ctx, 'onUploadFinished', file);

/** Tells the host a valid file is gone: call it only from the request whose DELETE removed the row. */
export const announceDeleted = (ctx: HookContext, file: FileRecord): Promise<void> =>
  announce(ctx, 'onFileDeleted', file);

async function announce(ctx: HookContext, hook: 'onUploadFinished' | 'onFileDeleted', file: FileRecord): Promise<void> {
  const listener = ctx.hooks?.[hook];
  if (!listener) return;
  try {
    await listener.call(ctx.hooks, await fileJson(ctx, file, { deleted: hook === 'onFileDeleted' }));
  } catch (error) {
    (ctx.log ?? consoleLog).error(
      { err: error, hook, fileId: file.id },
      `The ${hook} hook failed; the file is unaffected.`,
    );
  }
}
