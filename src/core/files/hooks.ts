// The host's say in uploads: onUploadStart may refuse one before its record exists (throw; an
// UploadRefusedError is answered as its status and code); onUploadFinished and onFileDeleted hear
// of each file once, after the change is committed. Those two are told, not asked: whatever they
// throw is logged and the file stays as it is.
import { UploadRefusedError } from '../../errors.js';
import type { Actor } from '../actor.js';
import { enqueueEvent, type EventType } from '../events/outbox.js';
import { fileJson, type FileJson } from './json.js';
import type { Executor, FileRecord } from './repository.js';
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

type HookContext = Pick<FilesContext, 'hooks' | 'log' | 'storage' | 'policy' | 'db' | 'events'>;

/** Asks the host whether this upload may start; its refusal is thrown as it is. */
export async function askUploadStart(
  ctx: HookContext,
  { fileSize, ...event }: Omit<UploadStartEvent, 'fileSize'> & { fileSize?: number | null | undefined },
): Promise<void> {
  await ctx.hooks?.onUploadStart?.(fileSize === null || fileSize === undefined ? event : { ...event, fileSize });
}

/** A file that became valid, or a valid file that is gone: what a change reports, if anything. */
export type FileEvent = { type: EventType; file: FileRecord };

const HOOK_OF: Record<EventType, 'onUploadFinished' | 'onFileDeleted'> = {
  'file.finished': 'onUploadFinished',
  'file.deleted': 'onFileDeleted',
};

/**
 * Runs a change that may make a file valid or remove a valid one, and tells of it: with webhooks
 * on, the event is written to the outbox in the change's own transaction (committed together or
 * not at all); the host's hook hears of it once that is committed. `change` returns its event
 * only when it won (its conditional UPDATE or DELETE took the row), so each is told once.
 */
export async function changeAndAnnounce<T>(
  ctx: HookContext,
  change: (db: Executor) => Promise<{ result: T; event: FileEvent | null }>,
): Promise<T> {
  const outbox = ctx.events;
  let json: FileJson | undefined;
  const { result, event } =
    outbox && outbox.urls.length > 0
      ? await ctx.db.transaction().execute(async (trx) => {
          const done = await change(trx);
          if (done.event) {
            const { type, file } = done.event;
            json = await fileJson(ctx, file, { deleted: type === 'file.deleted' });
            await enqueueEvent(trx, { urls: outbox.urls, type, data: json });
          }
          return done;
        })
      : await change(ctx.db);
  if (event) {
    outbox?.wake();
    await announce(ctx, HOOK_OF[event.type], event.file, json);
  }
  return result;
}

async function announce(
  ctx: HookContext,
  hook: 'onUploadFinished' | 'onFileDeleted',
  file: FileRecord,
  // the event's own JSON when webhooks carry it too: the hook hears the same
  json?: FileJson,
): Promise<void> {
  const listener = ctx.hooks?.[hook];
  if (!listener) return;
  try {
    await listener.call(ctx.hooks, json ?? (await fileJson(ctx, file, { deleted: hook === 'onFileDeleted' })));
  } catch (error) {
    (ctx.log ?? consoleLog).error(
      { err: error, hook, fileId: file.id },
      `The ${hook} hook failed; the file is unaffected.`,
    );
  }
}
