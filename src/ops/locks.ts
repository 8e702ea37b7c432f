// Named leases in the database, so that with several server processes a job runs in one of them
// at a time. Taking one is a single atomic statement on SQLite and PostgreSQL alike: insert the
// row, or take over a row whose lease has expired; nothing lives in process memory.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { ColumnType, Kysely } from 'kysely';
import { nowIso, toDate } from '../db/normalise.js';

export interface LocksTable {
  name: string;
  /** who holds it: host, pid and a random part, unique per holder */
  owner: string;
  expires_at: ColumnType<Date | string, string, string>;
}

// The table is Chute's own (migration 0003), typed here rather than in the shared schema.
const locks = (db: Kysely<any>) => db.withTables<{ locks: LocksTable }>() as unknown as Kysely<{ locks: LocksTable }>;

/** A holder name unique to this process and call: host:pid:random. */
export const lockOwner = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/** True when `owner` now holds `name` until now + ttl: it was free, expired, or already its own. */
export async function lockAcquire(
  db: Kysely<any>,
  { name, owner, ttlSeconds, now = new Date() }: { name: string; owner: string; ttlSeconds: number; now?: Date },
): Promise<boolean> {
  const expiresAt = nowIso(new Date(now.getTime() + ttlSeconds * 1000));
  const inserted = await locks(db)
    .insertInto('locks')
    .values({ name, owner, expires_at: expiresAt })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return true;
  const taken = await locks(db)
    .updateTable('locks')
    .set({ owner, expires_at: expiresAt })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('expires_at', '<=', nowIso(now)), eb('owner', '=', owner)]))
    .executeTakeFirst();
  return Number(taken.numUpdatedRows) === 1;
}

/** Gives the lease up, if `owner` still holds it. */
export async function lockRelease(db: Kysely<any>, { name, owner }: { name: string; owner: string }): Promise<void> {
  await locks(db).deleteFrom('locks').where('name', '=', name).where('owner', '=', owner).execute();
}

export async function lockHolder(db: Kysely<any>, name: string): Promise<{ owner: string; expiresAt: Date } | null> {
  const row = await locks(db).selectFrom('locks').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? { owner: row.owner, expiresAt: toDate(row.expires_at) } : null;
}

export type Locked<T> = { acquired: true; result: T } | { acquired: false; holder: { owner: string; expiresAt: Date } | null };

/** Runs `fn` while holding `name`; when another holder has it, does nothing and says who. */
export async function withLock<T>(
  db: Kysely<any>,
  { name, ttlSeconds, owner = lockOwner() }: { name: string; ttlSeconds: number; owner?: string },
  fn: () => Promise<T>,
): Promise<Locked<T>> {
  if (!(await lockAcquire(db, { name, owner, ttlSeconds }))) return { acquired: false, holder: await lockHolder(db, name) };
  try {
    return { acquired: true, result: await fn() };
  } finally {
    await lockRelease(db, { name, owner });
  }
}
