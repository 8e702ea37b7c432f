// @fastify/rate-limit with its counters in the database (a custom `store`), so the limits hold
// across every Chute process on one database, and the shared settings of the limited routes.
import type { AnyDb } from '../../db/any-db.js';
import { normalizeIP, type FastifyRateLimitStore, type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { rateLimitHit, rateLimitRead, rateLimitsPrune } from '../../ops/rate-limits.js';
import { actorOf } from './auth.js';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/**
 * A store class for the plugin's `store` option. One statement per counted request; ended windows
 * are pruned at most once per `pruneEveryMs` per process, beside the request rather than in it.
 * Keys carry their own namespace (`start:user:7`, `login:ip:…`), so a child store is the same
 * store: routes that share a key generator share a budget. `settled()` lets close wait for a prune.
 *
 * A key found over its limit is refused here, without the database, until its window ends: a
 * window's count only grows, so the answer cannot change, and a flood costs no writes.
 */
export function databaseRateLimitStore(db: AnyDb, { pruneEveryMs = 60_000, maxRefusedKeys = 10_000 } = {}) {
  let nextPruneAt = 0;
  let pruning: Promise<unknown> = Promise.resolve();
  /** keys over their limit: hits seen and the end of their window */
  const refused = new Map<string, { hits: number; resetsAt: number }>();
  const remember = (key: string, entry: { hits: number; resetsAt: number }, now: number) => {
    // Insertion order is about window-end order, so ended entries (and, when full, the oldest:
    // forgetting one costs its next request a database hit, no more) go from the front.
    for (const [known, { resetsAt }] of refused) {
      if (resetsAt > now && refused.size < maxRefusedKeys) break;
      refused.delete(known);
    }
    refused.set(key, entry);
  };
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
      rateLimitHit(db, { key, windowMs: timeWindow, now }).then(
        ({ hits, resetsAt }) => {
          if (hits > max) remember(key, { hits, resetsAt }, now);
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
