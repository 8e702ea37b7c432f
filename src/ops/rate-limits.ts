// Rate-limit counters in the database, so that every process behind a load balancer counts
// against the same budget. A hit is one atomic statement on SQLite and PostgreSQL alike: insert
// the key's row, or bump it, starting a new window when the old one has ended.
import { type AnyDb, withOwnTables } from '../db/any-db.js';
import type { ColumnType } from 'kysely';
import { preparedQuery } from '../db/prepared.js';

export interface RateLimitsTable {
  key: string;
  hits: number;
  /** end of the current window, epoch milliseconds (bigint: PostgreSQL hands back a string) */
  resets_at: ColumnType<number | string, number, number>;
}

// The table is Chute's own (migration 0005), typed here rather than in the shared schema.
const counters = (db: AnyDb) => withOwnTables<{ chute_rate_limits: RateLimitsTable }>(db);

// Runs on every counted request (each upload start, each login): compiled once (see preparedQuery).
const hitQuery = preparedQuery(['key', 'now', 'resetsAt', 'by'], (db, param) =>
  counters(db)
    .insertInto('chute_rate_limits')
    .values({ key: param.key, hits: param.by, resets_at: param.resetsAt })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        // both SET expressions read the row as it was before this statement
        const ended = eb('chute_rate_limits.resets_at', '<=', param.now);
        return {
          hits: eb
            .case()
            .when(ended)
            .then(param.by)
            .else(eb('chute_rate_limits.hits', '+', param.by))
            .end(),
          resets_at: eb
            .case()
            .when(ended)
            .then(eb.ref('excluded.resets_at'))
            .else(eb.ref('chute_rate_limits.resets_at'))
            .end(),
        };
      }),
    )
    .returning(['hits', 'resets_at']),
);

/**
 * Counts `by` hits (one unless told) on `key` in a window of `windowMs` (a fixed window from its
 * first hit); the key's count after them.
 */
export async function rateLimitHit(
  db: AnyDb,
  { key, windowMs, now = Date.now(), by = 1 }: { key: string; windowMs: number; now?: number; by?: number },
): Promise<{ hits: number; resetsAt: number }> {
  const [row] = await hitQuery(db, { key, now, resetsAt: now + windowMs, by });
  return { hits: Number(row!.hits), resetsAt: Number(row!.resets_at) };
}

/** The key's hits in its current window, without counting one (0 once the window has ended). */
export async function rateLimitRead(
  db: AnyDb,
  { key, now = Date.now() }: { key: string; now?: number },
): Promise<{ hits: number; resetsAt: number }> {
  const row = await counters(db)
    .selectFrom('chute_rate_limits')
    .select(['hits', 'resets_at'])
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row || Number(row.resets_at) <= now) return { hits: 0, resetsAt: now };
  return { hits: Number(row.hits), resetsAt: Number(row.resets_at) };
}

/** Drops the rows of ended windows; returns how many. */
export async function rateLimitsPrune(db: AnyDb, now = Date.now()): Promise<number> {
  const deleted = await counters(db).deleteFrom('chute_rate_limits').where('resets_at', '<=', now).executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
