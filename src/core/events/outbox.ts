// The webhook outbox: each event Chute tells the host about is a row per endpoint, written in the
// same transaction as the change it reports (so a committed change always has its event, and a
// rolled-back one never does), then sent by the delivery loop (delivery.ts) of whichever server
// process leases it first. Nothing waits in memory: a receiver down for a day costs rows, not RAM.
import { randomUUID } from 'node:crypto';
import { type ColumnType, type Generated, type Selectable, sql } from 'kysely';
import { type AnyDb, withOwnTables } from '../../db/any-db.js';
import { dialectOf } from '../../db/dialect.js';
import { toNullableNumber, toNumber } from '../../db/normalise.js';
import { preparedQuery } from '../../db/prepared.js';
import type { FileJson } from '../files/json.js';

export const EVENT_TYPES = ['file.finished', 'file.deleted'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** How long an event is retried before it is marked failed. */
export const GIVE_UP_AFTER_MS = 24 * 3600_000;
/** How long a delivered event stays in the outbox (visible to the admin, replayable). */
export const KEEP_DELIVERED_MS = 7 * 24 * 3600_000;

/** The body of every webhook request (`data` is the file as the API returns it; `url` is null once deleted). */
export interface WebhookEvent<Data = FileJson> {
  type: EventType;
  /** when the change happened (ISO 8601) */
  timestamp: string;
  data: Data;
}

/** Webhooks as a FilesContext carries them: where events go, and how the delivery loop hears of a new one. */
export interface EventOutbox {
  urls: readonly string[];
  /** a new event was committed: send it now rather than at the next poll */
  wake(): void;
}

type Millis = ColumnType<number | string, number, number>;
type NullableMillis = ColumnType<number | string | null, number | null, number | null>;

export interface WebhookDeliveriesTable {
  id: Generated<number | string>;
  /** the `webhook-id` header: the same on every attempt, so a receiver can drop a repeat */
  event_id: string;
  event_type: EventType;
  /** the exact body sent (and signed): `{type, timestamp, data}` */
  payload: string;
  url: string;
  state: DeliveryState;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Millis;
  give_up_at: Millis;
  /** the process sending it now, until lease_until: no other process takes it meanwhile */
  lease_owner: string | null;
  lease_until: NullableMillis;
  last_status: number | null;
  last_error: string | null;
  created_at: Millis;
  updated_at: Millis;
  delivered_at: NullableMillis;
}

const outbox = (db: AnyDb) => withOwnTables<{ chute_webhook_deliveries: WebhookDeliveriesTable }>(db);

export interface Delivery {
  id: number;
  eventId: string;
  eventType: EventType;
  payload: string;
  url: string;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: number;
  giveUpAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

const toDelivery = (row: Selectable<WebhookDeliveriesTable>): Delivery => ({
  id: toNumber(row.id),
  eventId: row.event_id,
  eventType: row.event_type,
  payload: row.payload,
  url: row.url,
  state: row.state,
  attempts: toNumber(row.attempts),
  nextAttemptAt: toNumber(row.next_attempt_at),
  giveUpAt: toNumber(row.give_up_at),
  lastStatus: toNullableNumber(row.last_status),
  lastError: row.last_error,
  createdAt: toNumber(row.created_at),
  deliveredAt: toNullableNumber(row.delivered_at),
});

export const newEventId = (): string => `msg_${randomUUID().replaceAll('-', '')}`;

const EVENT_COLUMNS = [
  'event_id',
  'event_type',
  'payload',
  'url',
  'state',
  'next_attempt_at',
  'give_up_at',
  'created_at',
] as const;
// Runs in the transaction of every finish and delete when webhooks are on: compiled once (see preparedQuery).
const insertDeliveryQuery = preparedQuery(EVENT_COLUMNS, (db, param) =>
  outbox(db)
    .insertInto('chute_webhook_deliveries')
    .values({ ...param, updated_at: param.created_at }),
);

/** Writes one event for every endpoint; call it inside the transaction of the change it reports. */
export async function enqueueEvent(
  db: AnyDb,
  { urls, type, data, now = Date.now() }: { urls: readonly string[]; type: EventType; data: unknown; now?: number },
): Promise<void> {
  const eventId = newEventId();
  const event: WebhookEvent<unknown> = { type, timestamp: new Date(now).toISOString(), data };
  const payload = JSON.stringify(event);
  for (const url of urls)
    await insertDeliveryQuery(db, {
      event_id: eventId,
      event_type: type,
      payload,
      url,
      state: 'pending',
      next_attempt_at: now,
      give_up_at: now + GIVE_UP_AFTER_MS,
      created_at: now,
    });
}

/**
 * Leases up to `limit` due deliveries to `owner` until now + leaseMs, in one statement: on
 * PostgreSQL concurrent claimers skip each other's rows (SKIP LOCKED); SQLite runs one write at a
 * time, across processes too. A lease run out (its process died mid-send) is due again.
 */
export async function claimDueDeliveries(
  db: AnyDb,
  { owner, now, leaseMs, limit }: { owner: string; now: number; leaseMs: number; limit: number },
): Promise<Delivery[]> {
  const pg = dialectOf(db) === 'postgres';
  const rows = await outbox(db)
    // materialized: run once. Inlined as `id IN (SELECT ... LIMIT n)`, PostgreSQL may run the
    // subquery again per row and lease far more than `limit` (seen: 40 of a limit of 4)
    .with(
      (cte) => cte('due').materialized(),
      (q) => {
        const due = q
          .selectFrom('chute_webhook_deliveries')
          .select('id')
          // literally, as the partial index of pending deliveries says it (migration 0009)
          .where('state', '=', sql.lit('pending'))
          .where('next_attempt_at', '<=', now)
          .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
          .orderBy('next_attempt_at')
          .orderBy('id')
          .limit(limit);
        return pg ? due.forUpdate().skipLocked() : due;
      },
    )
    .updateTable('chute_webhook_deliveries')
    .set({ lease_owner: owner, lease_until: now + leaseMs, updated_at: now })
    .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
    // checked again on the row itself: PostgreSQL re-reads a row another claimer changed meanwhile
    .where('state', '=', 'pending')
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
    .returningAll()
    .execute();
  return rows.map(toDelivery).sort((a, b) => a.id - b.id);
}

export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** failed for good (a 4xx other than 429, or retried until give_up_at) */
  | { kind: 'failed'; status: number | null; error: string | null }
  | { kind: 'retry'; status: number | null; error: string | null; nextAttemptAt: number }
  /** the process is stopping: the delivery is handed back untried */
  | { kind: 'released' };

export type Settled = { id: number; outcome: DeliveryOutcome };

/**
 * Records what became of a round's leased deliveries, in one transaction; the delivered ones
 * (nearly all) in one statement per status. A delivery whose lease went to another process
 * meanwhile is left to that process.
 */
export async function settleDeliveries(
  db: AnyDb,
  { owner, settled, now = Date.now() }: { owner: string; settled: Settled[]; now?: number },
): Promise<void> {
  const release = { lease_owner: null, lease_until: null, updated_at: now };
  const delivered = new Map<number, number[]>();
  await db.transaction().execute(async (trx) => {
    const mine = (ids: number[]) =>
      outbox(trx).updateTable('chute_webhook_deliveries').where('id', 'in', ids).where('lease_owner', '=', owner);
    for (const { id, outcome } of settled) {
      if (outcome.kind === 'delivered') delivered.set(outcome.status, [...(delivered.get(outcome.status) ?? []), id]);
      else if (outcome.kind === 'released') await mine([id]).set(release).execute();
      else
        await mine([id])
          .set((eb) => ({
            ...release,
            attempts: eb('attempts', '+', 1),
            last_status: outcome.status,
            last_error: outcome.error?.slice(0, 1024) ?? null,
            ...(outcome.kind === 'failed' ? { state: 'failed' as const } : { next_attempt_at: outcome.nextAttemptAt }),
          }))
          .execute();
    }
    for (const [status, ids] of delivered)
      await mine(ids)
        .set((eb) => ({
          ...release,
          attempts: eb('attempts', '+', 1),
          last_status: status,
          last_error: null,
          state: 'delivered' as const,
          delivered_at: now,
        }))
        .execute();
  });
}

/** Sends again from now, with a new day of retries: an admin's "send again", a replay. */
const sendAgain = (now: number) => ({
  state: 'pending' as const,
  next_attempt_at: now,
  give_up_at: now + GIVE_UP_AFTER_MS,
  lease_owner: null,
  lease_until: null,
  updated_at: now,
});

/** Puts deliveries back in line, whatever their state: one by id, or every one of events since a time. */
async function putBackInLine(db: AnyDb, now: number, which: { id: number } | { since: number }): Promise<number> {
  const update = outbox(db).updateTable('chute_webhook_deliveries').set(sendAgain(now));
  const result = await ('id' in which
    ? update.where('id', '=', which.id)
    : update.where('created_at', '>=', which.since)
  ).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Puts one delivery back in line (whatever its state); false when there is no such delivery. */
export async function resendDelivery(
  db: AnyDb,
  { id, now = Date.now() }: { id: number; now?: number },
): Promise<boolean> {
  return (await putBackInLine(db, now, { id })) === 1;
}

/** Puts every delivery of an event since `since` back in line, delivered ones too; how many. */
export function replayDeliveriesSince(
  db: AnyDb,
  { since, now = Date.now() }: { since: number; now?: number },
): Promise<number> {
  return putBackInLine(db, now, { since });
}

/** Removes deliveries delivered before `before`; how many. */
export async function pruneDelivered(db: AnyDb, { before }: { before: number }): Promise<number> {
  const result = await outbox(db)
    .deleteFrom('chute_webhook_deliveries')
    .where('state', '=', sql.lit('delivered'))
    .where('delivered_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function findDelivery(db: AnyDb, id: number): Promise<Delivery | undefined> {
  const row = await outbox(db)
    .selectFrom('chute_webhook_deliveries')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toDelivery(row);
}

export const DELIVERIES_PAGE_MAX = 200;

/** The newest deliveries first, `limit` after `beforeId` (the last id of the page before), optionally of one state. */
export async function listDeliveries(
  db: AnyDb,
  { limit, beforeId, state }: { limit: number; beforeId?: number | undefined; state?: DeliveryState | undefined },
): Promise<Delivery[]> {
  let query = outbox(db).selectFrom('chute_webhook_deliveries').selectAll().orderBy('id', 'desc').limit(limit);
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  if (state !== undefined) query = query.where('state', '=', state);
  return (await query.execute()).map(toDelivery);
}
