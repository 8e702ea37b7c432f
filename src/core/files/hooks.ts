// The host's say in uploads: onUploadStart may refuse one before its record exists (throw; an
// UploadRefusedError is answered as its status and code); onUploadFinished and onFileDeleted hear
// of each file once, after the change is committed. Those two are told, not asked: whatever they
// throw is logged and the file stays as it is.
import { UploadRefusedError } from '../../errors.js';
import type { Actor } from '../actor.js';
import { enqueueEvent, type EventType } from '../events/outbox.js';
import { fileJson, type FileJson } from './json.js';
import {
  anyFileOwesEvent,
  type EventMark,
  type Executor,
  type FileRecord,
  takeFilesOwingEvents,
} from './repository.js';
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

const HOOK_OF: Record<EventType, 'onUploadFinished' | 'onFileDeleted'> = {
  'file.finished': 'onUploadFinished',
  'file.deleted': 'onFileDeleted',
};

/** A change that may make a file valid or remove a valid one: the file, only when this change did it. */
type Change<T> = (db: Executor, mark: EventMark) => Promise<{ result: T; file: FileRecord | null }>;

/**
 * Runs a change that may make a file valid ('file.finished') or remove a valid one
 * ('file.deleted'), and tells of it. With webhooks on, the event is recorded with the change,
 * committed together or not at all. A file's first move to valid carries `mark` in the change's own
 * statement (no transaction, no outbox row on the request's path; the delivery loop writes the
 * event, see writeOwedEvents). A change to a file that may be valid already, `touches` (a replace, a
 * delete), runs in a transaction that first writes the event the file may still owe, so that no
 * change's event is lost to the next one; a delete then writes its own event to the outbox, as its
 * row is gone after. The host's hook hears of it once committed. `change` returns the file only
 * when it won (its conditional UPDATE or DELETE took the row), so each is told once.
 */
export async function changeAndAnnounce<T>(
  ctx: HookContext,
  type: EventType,
  change: Change<T>,
  { touches }: { touches?: number } = {},
): Promise<T> {
  const outbox = ctx.events?.urls.length ? ctx.events : undefined;
  const mark: EventMark = type === 'file.finished' ? { pending_event_at: Date.now() } : {};
  let json: FileJson | undefined;
  const { result, file } = !outbox
    ? await change(ctx.db, {})
    : touches === undefined && type === 'file.finished'
      ? await change(ctx.db, mark)
      : await ctx.db.transaction().execute(async (trx) => {
          if (touches !== undefined) await writeOwed(ctx, trx, outbox.urls, { limit: 1, id: touches });
          const done = await change(trx, mark);
          if (done.file && type === 'file.deleted') {
            json = await fileJson(ctx, done.file, { deleted: true });
            await enqueueEvent(trx, { urls: outbox.urls, type, data: json });
          }
          return done;
        });
  if (file) {
    outbox?.wake();
    await announce(ctx, HOOK_OF[type], file, json);
  }
  return result;
}

/**
 * Writes the file.finished events that files owe to the outbox, up to `limit`, oldest first, and
 * unmarks those files, in one transaction; how many. The delivery loop calls it before each lease.
 */
export async function writeOwedEvents(ctx: HookContext, { limit }: { limit: number }): Promise<number> {
  const urls = ctx.events?.urls;
  // most rounds find nothing: no transaction (on PostgreSQL a round trip per statement) for them
  if (!urls?.length || !(await anyFileOwesEvent(ctx.db))) return 0;
  return ctx.db.transaction().execute((trx) => writeOwed(ctx, trx, urls, { limit }));
}

async function writeOwed(
  ctx: HookContext,
  db: Executor,
  urls: readonly string[],
  which: { limit: number; id?: number },
): Promise<number> {
  const files = await takeFilesOwingEvents(db, which);
  for (const file of files) await writeFinishedEvent(ctx, db, urls, file);
  return files.length;
}

/** The event of a file that became valid, dated when it did (its webhook-id is new here). */
async function writeFinishedEvent(ctx: HookContext, db: Executor, urls: readonly string[], file: FileRecord) {
  const data = await fileJson(ctx, file);
  await enqueueEvent(db, { urls, type: 'file.finished', data, now: file.upload_finished_at?.getTime() });
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
