// A file record's life. Each record has one state and one upload method (which never changes);
// this module owns the states and the moves between them, and every move is one conditional
// UPDATE (`WHERE state IN (from)`): of two concurrent moves from the same state, one changes the
// row and the other reports false. Work on a record that takes longer than one statement (a local
// receive, a multipart complete, an abort, a delete of an open upload, the cleanup) also holds the
// record's lock, fileLock(), so a second request waits or is refused instead of racing it.
//
//   pending --receive--> receiving --stored--> received --finish--> valid
//      |  ^                  |                                       ^
//      |  +---failed/undo----+                                       |
//      +--finish (S3 post, single PUT settled)-----------------------+
//      +--complete--> completing --joined and checked----------------+
//                         +--failed: back to pending
// A refused upload is deleted with its record; it keeps no state. See docs/lifecycle.md.
import type { Kysely } from 'kysely';
import { nowIso } from '../../db/normalise.js';
import { executeNamed } from '../../db/prepared.js';
import { DbLocker, type Lock, type Locker } from '../../db/locks.js';
import type { Database, FileState, FileUpdate, UploadMethod } from '../../db/schema.js';
import type { Executor } from './repository.js';

export type { FileState };

/** Which states each state may move to. */
export const TRANSITIONS: Readonly<Record<FileState, readonly FileState[]>> = {
  pending: ['receiving', 'completing', 'valid'],
  // a receive whose holder died is taken over (receiving -> receiving) under a new lease
  receiving: ['receiving', 'received', 'pending'],
  received: ['valid', 'pending'],
  completing: ['completing', 'valid', 'pending'],
  valid: [],
};

/** Whether a record is valid: read from its state, here only (upload_finished_at says when, not whether). */
export const isValid = (file: { state: FileState }): boolean => file.state === 'valid';

/** A single PUT (Uppy's small files) not valid yet: the next read settles it (src/core/files/settle.ts). */
export const awaitsSettling = (file: { state: FileState; upload_method: UploadMethod }): boolean =>
  file.upload_method === 'put' && !isValid(file);

export const canMove = (from: FileState, to: FileState): boolean => TRANSITIONS[from].includes(to);

/**
 * Moves record `id` from one of `from` to `to` (setting `set` with it); false when the record was
 * in no state of `from` (or is gone). A move the table does not allow is a bug: it throws.
 */
export async function moveState(
  db: Executor,
  {
    id,
    from,
    to,
    set = {},
  }: { id: number; from: readonly FileState[]; to: FileState; set?: Omit<FileUpdate, 'state'> },
): Promise<boolean> {
  const illegal = from.filter((state) => !canMove(state, to));
  if (illegal.length > 0) throw new Error(`A file record cannot move from ${illegal.join(', ')} to ${to}.`);
  // prepared on PostgreSQL, where planning it cost ~350 µs against ~250 µs to run it
  const result = await executeNamed(
    db,
    db
      .updateTable('chute_files')
      .set({ updated_at: nowIso(), ...set, state: to })
      .where('id', '=', id)
      .where('state', 'in', from),
  );
  return Number(result.numAffectedRows) === 1;
}

/** How long a file lock's lease lasts unless renewed: how long a crashed receive or complete blocks its record. */
export const FILE_LEASE_MS = 60_000;

export const fileLockName = (id: number): string => `file:${id}`;

const lockers = new WeakMap<Kysely<Database>, Locker>();

/** The locker of a context: the host's own, or leases in the database. */
export function lockerOf(ctx: { db: Kysely<Database>; locker?: Locker | undefined }): Locker {
  if (ctx.locker) return ctx.locker;
  let locker = lockers.get(ctx.db);
  // a waiting complete asks every 200 ms, as often as the polling loop it replaced read the record
  if (!locker) lockers.set(ctx.db, (locker = new DbLocker(ctx.db, { ttlMs: FILE_LEASE_MS, pollMs: 200 })));
  return locker;
}

/** Takes record `id`'s lock, waiting up to waitMs for its holder; null when it is still held. */
export const fileLock = (
  ctx: { db: Kysely<Database>; locker?: Locker | undefined },
  id: number,
  waitMs = 0,
): Promise<Lock | null> => lockerOf(ctx).lock(fileLockName(id), { waitMs });
