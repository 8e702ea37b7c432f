// Named leases in the database, so that a lock holds across server processes: a job runs in one
// of them at a time, and one request at a time works on a file record. Taking one is a single
// atomic statement on SQLite and PostgreSQL alike: insert the row, or take over a row whose lease
// has expired; nothing lives in process memory, and a crashed holder's lease simply runs out.
import { type AnyDb, withOwnTables } from './any-db.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { ColumnType } from 'kysely';
import { nowIso, toDate } from './normalise.js';
import { executeNamed } from './prepared.js';

export interface LocksTable {
  name: string;
  /** who holds it: host, pid and a random part, unique per holder */
  owner: string;
  expires_at: ColumnType<Date | string, string, string>;
}

// The table is Chute's own (chute_locks, migration 0003), typed here rather than in the shared schema.
const locks = (db: AnyDb) => withOwnTables<{ chute_locks: LocksTable }>(db);

/** A holder name unique to this process and call: host:pid:random. */
export const lockOwner = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/** True when `owner` now holds `name` until now + ttl: it was free, expired, or already its own. */
export async function lockAcquire(
  db: AnyDb,
  { name, owner, ttlSeconds, now = new Date() }: { name: string; owner: string; ttlSeconds: number; now?: Date },
): Promise<boolean> {
  const expiresAt = nowIso(new Date(now.getTime() + ttlSeconds * 1000));
  // the insert and the release run once per file lock (a local upload, a multipart complete):
  // prepared on PostgreSQL, where planning them cost ~40 and ~100 µs
  const inserted = await executeNamed(
    db,
    locks(db)
      .insertInto('chute_locks')
      .values({ name, owner, expires_at: expiresAt })
      .onConflict((oc) => oc.column('name').doNothing()),
  );
  if (Number(inserted.numAffectedRows ?? 0) === 1) return true;
  const taken = await locks(db)
    .updateTable('chute_locks')
    .set({ owner, expires_at: expiresAt })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('expires_at', '<=', nowIso(now)), eb('owner', '=', owner)]))
    .executeTakeFirst();
  return Number(taken.numUpdatedRows) === 1;
}

/** Gives the lease up, if `owner` still holds it. */
export async function lockRelease(db: AnyDb, { name, owner }: { name: string; owner: string }): Promise<void> {
  await executeNamed(db, locks(db).deleteFrom('chute_locks').where('name', '=', name).where('owner', '=', owner));
}

export async function lockHolder(db: AnyDb, name: string): Promise<{ owner: string; expiresAt: Date } | null> {
  const row = await locks(db).selectFrom('chute_locks').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? { owner: row.owner, expiresAt: toDate(row.expires_at) } : null;
}

/** A lock held: renewed in the background until unlock. */
export interface Lock {
  readonly name: string;
  readonly owner: string;
  unlock(): Promise<void>;
}

/** One lock abstraction for the core and the jobs (as tus-node-server's Locker). */
export interface Locker {
  /**
   * Takes `name`, waiting up to `waitMs` (0: not at all) for its holder to let go or its lease to
   * run out; null when it is still held then.
   */
  lock(name: string, options?: { waitMs?: number; owner?: string }): Promise<Lock | null>;
}

export interface DbLockerOptions {
  /** how long a lease lasts unless renewed: how long a crashed holder blocks the name */
  ttlMs?: number;
  /** how often a waiting taker asks again */
  pollMs?: number;
  /** the clock (tests) */
  now?: () => Date;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Locker on the `chute_locks` table: leases with owner and expiry, renewed at a third of their life. */
export class DbLocker implements Locker {
  readonly ttlMs: number;
  private readonly pollMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: AnyDb,
    { ttlMs = 60_000, pollMs = 100, now = () => new Date() }: DbLockerOptions = {},
  ) {
    this.ttlMs = ttlMs;
    this.pollMs = pollMs;
    this.now = now;
  }

  async lock(
    name: string,
    { waitMs = 0, owner = lockOwner() }: { waitMs?: number; owner?: string } = {},
  ): Promise<Lock | null> {
    const deadline = Date.now() + waitMs;
    while (!(await this.acquire(name, owner))) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await sleep(Math.min(this.pollMs, left));
    }
    return this.held(name, owner);
  }

  private acquire(name: string, owner: string): Promise<boolean> {
    return lockAcquire(this.db, { name, owner, ttlSeconds: this.ttlMs / 1000, now: this.now() });
  }

  private held(name: string, owner: string): Lock {
    const renewal = setInterval(() => {
      // a renewal lost to the database is retried at the next tick; the lease outlives two misses
      this.acquire(name, owner).catch(() => undefined);
    }, this.ttlMs / 3);
    renewal.unref();
    return {
      name,
      owner,
      unlock: async () => {
        clearInterval(renewal);
        await lockRelease(this.db, { name, owner });
      },
    };
  }
}

export type Locked<T> =
  | { acquired: true; result: T }
  | { acquired: false; holder: { owner: string; expiresAt: Date } | null };

/** Runs `fn` while holding `name`; when another holder has it, does nothing and says who. */
export async function withLock<T>(
  db: AnyDb,
  { name, ttlSeconds, owner }: { name: string; ttlSeconds: number; owner?: string },
  fn: () => Promise<T>,
): Promise<Locked<T>> {
  const lock = await new DbLocker(db, { ttlMs: ttlSeconds * 1000 }).lock(name, { ...(owner && { owner }) });
  if (!lock) return { acquired: false, holder: await lockHolder(db, name) };
  try {
    return { acquired: true, result: await fn() };
  } finally {
    await lock.unlock();
  }
}
