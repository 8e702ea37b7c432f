// @fastify/rate-limit with its counters in the database (a custom `store`), so the limits hold
// across every Chute process on one database, and the shared settings of the limited routes.
import type { AnyDb } from '../../db/any-db.js';
import { normalizeIP, type FastifyRateLimitStore, type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { rateLimitHit, rateLimitRead, rateLimitsPrune } from '../../ops/rate-limits.js';
import { actorOf } from './auth.js';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** Hits a process takes from the database at once for a budget of `max`: one below 100 (exact). */
export const rateLimitBatch = (max: number) => Math.min(20, Math.max(1, Math.floor(max / 50)));

type Window = { resetsAt: number };

/**
 * Sets `key` in `map`, a map whose insertion order is about window-end order: entries of ended
 * windows (and, when full, the oldest: forgetting one costs its key a database hit, no more) go
 * from the front.
 */
function setBounded<E extends Window>(map: Map<string, E>, key: string, entry: E, now: number, limit: number) {
  for (const [known, { resetsAt }] of map) {
    if (resetsAt > now && map.size < limit) break;
    map.delete(known);
  }
  map.delete(key);
  map.set(key, entry);
}

/**
 * A store class for the plugin's `store` option. Keys carry their own namespace (`start:user:7`,
 * `login:ip:…`), so a child store is the same store: routes that share a key generator share a
 * budget. Ended windows are pruned at most once per `pruneEveryMs` per process, beside the
 * request rather than in it; `settled()` lets close wait for a prune.
 *
 * The database is the authority: every hit a process grants has its number there. A budget under
 * 100 is counted one statement per hit. A larger one is taken in batches (rateLimitBatch): the
 * process counts the batch's hits in the database at once and grants their numbers from memory,
 * so a stream of starts by one user costs one write per batch. The cost: a batch's numbers left
 * unused when the window ends were counted, so with N processes a key may be refused up to
 * (N - 1) × (batch - 1) hits before its budget (2% of it per other process); never after.
 *
 * A key found over its limit is refused here, without the database, until its window ends: a
 * window's count only grows, so the answer cannot change, and a flood costs no writes.
 */
export function databaseRateLimitStore(db: AnyDb, { pruneEveryMs = 60_000, maxRefusedKeys = 10_000 } = {}) {
  let nextPruneAt = 0;
  let pruning: Promise<unknown> = Promise.resolve();
  /** keys over their limit: hits seen and the end of their window */
  const refused = new Map<string, { hits: number; resetsAt: number }>();
  /** batches taken: the next hit number to grant, the last, and the end of their window (bounded as `refused`) */
  const leases = new Map<string, { next: number; last: number; resetsAt: number }>();
  /** batches being taken: who needs a hit of the key meanwhile waits for it */
  const taking = new Map<string, Promise<void>>();

  async function hit(key: string, windowMs: number, max: number): Promise<{ hits: number; resetsAt: number }> {
    const by = rateLimitBatch(max);
    if (by === 1) return rateLimitHit(db, { key, windowMs });
    for (;;) {
      const now = Date.now();
      const lease = leases.get(key);
      if (lease && lease.resetsAt > now && lease.next <= lease.last) {
        return { hits: lease.next++, resetsAt: lease.resetsAt };
      }
      const pending = taking.get(key);
      if (pending) {
        await pending;
        continue;
      }
      const batch = rateLimitHit(db, { key, windowMs, now, by });
      taking.set(key, batch.then(noop, noop));
      try {
        const { hits, resetsAt } = await batch;
        // this caller takes the batch's first number; the rest are granted from memory
        setBounded(leases, key, { next: hits - by + 2, last: hits, resetsAt }, now, maxRefusedKeys);
        return { hits: hits - by + 1, resetsAt };
      } finally {
        taking.delete(key);
      }
    }
  }

  class DatabaseRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      const now = Date.now();
      const known = refused.get(key);
      if (known && known.resetsAt > now) {
        known.hits += 1;
        callback(null, { current: known.hits, ttl: known.resetsAt - now });
        return;
      }
      if (known) refused.delete(key);
      hit(key, timeWindow, max).then(
        ({ hits, resetsAt }) => {
          if (hits > max) {
            setBounded(refused, key, { hits, resetsAt }, now, maxRefusedKeys);
            leases.delete(key);
          }
          callback(null, { current: hits, ttl: resetsAt - now });
        },
        (error: Error) => callback(error),
      );
      if (now >= nextPruneAt) {
        nextPruneAt = now + pruneEveryMs;
        pruning = rateLimitsPrune(db, now).catch(() => undefined); // the next prune tries again
      }
    }

    read(key: string, callback: Callback): void {
      const now = Date.now();
      rateLimitRead(db, { key, now }).then(
        ({ hits, resetsAt }) => callback(null, { current: hits, ttl: resetsAt - now }),
        (error: Error) => callback(error),
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  }
  return { Store: DatabaseRateLimitStore, settled: () => pruning };
}

const noop = () => {};

/** The per-client part of a key, as the plugin's default: an IPv6 client is its /64. */
export const clientAddress = (request: FastifyRequest): string => normalizeIP(request.ip);

export const rateLimited = (message: string) => (_request: unknown, context: { after: string }) =>
  new AppError('rate_limited', `${message} Try again in ${context.after}.`);

/**
 * Route config for everything that starts an upload (direct start, multipart create, Uppy's
 * params and create): one START_RATE_LIMIT budget per user across all of them. The user comes
 * from requireUser, which the routes' plugins add as a plugin-level onRequest hook: those run
 * before the route-level hook the rate limiter adds.
 */
export function startRateLimitConfig(limit: { max: number; timeWindow: number } | undefined): {
  config?: { rateLimit: RateLimitOptions };
} {
  if (!limit) return {};
  return {
    config: {
      rateLimit: {
        ...limit,
        keyGenerator: (request: FastifyRequest) => `start:user:${actorOf(request).id}`,
        errorResponseBuilder: rateLimited('Too many uploads started.'),
      },
    },
  };
}
