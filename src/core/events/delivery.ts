// The delivery loop: every server process runs one. It leases the due deliveries (outbox.ts),
// POSTs each as a Standard Webhooks request (webhook-id, webhook-timestamp, webhook-signature),
// and records the outcome: a 2xx ends it; a network error, timeout, 429 or 5xx is retried on the
// schedule below for a day; any other answer is a failure, not retried. At least once: a process
// killed mid-send leaves a lease that runs out, and the event is sent again under the same id.
import { createHmac } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { lockOwner } from '../../db/locks.js';
import type { AnyDb } from '../../db/any-db.js';
import {
  claimDueDeliveries,
  type Delivery,
  type DeliveryOutcome,
  KEEP_DELIVERED_MS,
  pruneDelivered,
  type Settled,
  settleDeliveries,
} from './outbox.js';
import { webhookSecretKey } from './settings.js';

/** The waits after the 1st, 2nd, ... failed attempt; hourly after the last. */
export const RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000] as const;
/** How long a receiver has to answer. */
export const DELIVERY_TIMEOUT_MS = 10_000;

export const retryDelayMs = (attempts: number): number =>
  RETRY_SCHEDULE_MS[Math.min(attempts, RETRY_SCHEDULE_MS.length) - 1] ?? RETRY_SCHEDULE_MS[0];

/** Where a log line says a delivery went: the endpoint without credentials or query (it may carry a token). */
export const endpointForLog = (url: string): string => {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
};

export interface DeliveryLog {
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

export interface WebhookDeliveryOptions {
  db: AnyDb;
  /** `whsec_...`: signs every request */
  secret: string;
  log: DeliveryLog;
  /** how often the outbox is asked when nothing woke the loop */
  pollMs?: number;
  timeoutMs?: number;
  /** the number of deliveries leased (and sent side by side) at a time */
  batch?: number;
  /**
   * Before each lease: writes up to `limit` events still owed by the changes that caused them
   * (files made valid mark their own rows) into the outbox; how many it wrote.
   */
  collect?: (limit: number) => Promise<number>;
}

export interface WebhookDelivery {
  /** a new event is committed: look now */
  wake(): void;
  /** stops asking; a send under way is cut and its delivery handed back for the next process */
  stop(): Promise<void>;
}

const PRUNE_EVERY_MS = 3_600_000;
/** How long a wake waits for more events to join its round. */
const WAKE_DELAY_MS = 10;
/**
 * Requests first: while the event loop was at work more than BUSY_UTILIZATION of the time since
 * the last look, the process is busy serving, and the next round waits (looking again every
 * LOOK_AGAIN_MS) for WAIT_PER_ROUND times the length of the last round, at least MIN_WAIT_MS (a
 * burst's first round, after idle ones that took no time) and at most MAX_WAIT_MS: under sustained
 * load delivery keeps about a fortieth of the time, and events wait in the database, not in memory,
 * until the load eases. Measured on the bench (finish with webhooks on against off, c=10): 0.58-0.66
 * when every event is sent at once, 0.73-0.78 with a twentieth and no floor, 0.9-0.98 with this and
 * the finish's event on the file row.
 */
const BUSY_UTILIZATION = 0.8;
const LOOK_AGAIN_MS = 25;
const WAIT_PER_ROUND = 39;
const MIN_WAIT_MS = 200;
const MAX_WAIT_MS = 2_000;

export function startWebhookDelivery({
  db,
  secret,
  log,
  pollMs = 1_000,
  timeoutMs = DELIVERY_TIMEOUT_MS,
  batch = 32,
  collect,
}: WebhookDeliveryOptions): WebhookDelivery {
  const sign = signer(secret);
  const owner = lockOwner();
  const agents: Agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: batch }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: batch }),
  };
  // a lease outlives the longest send, so no other process takes a delivery that is still in flight
  const leaseMs = timeoutMs + 20_000;
  const stopping = new AbortController();
  // every send of a round listens to it (up to `batch` at once): not a leak, so no warning for it
  setMaxListeners(batch + 1, stopping.signal);
  let lastPrune = 0;

  const sendOne = async (delivery: Delivery): Promise<Settled> => {
    const outcome = await attempt(delivery, { sign, timeoutMs, stop: stopping.signal, agents });
    if (outcome.kind === 'retry' || outcome.kind === 'failed') logFailure(log, delivery, outcome);
    return { id: delivery.id, outcome };
  };

  /** One lease of due deliveries, sent side by side and settled together; true when more may be due. */
  const round = async (): Promise<boolean> => {
    const now = Date.now();
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      await pruneDelivered(db, { before: now - KEEP_DELIVERED_MS });
    }
    const written = collect ? await collect(batch) : 0;
    const due = await claimDueDeliveries(db, { owner, now, leaseMs, limit: batch });
    if (due.length > 0) await settleDeliveries(db, { owner, settled: await Promise.all(due.map(sendOne)) });
    return due.length === batch || written === batch;
  };

  const rounds = roundScheduler({
    round,
    signal: stopping.signal,
    onError: (error) => log.error({ err: error }, 'webhook delivery round failed; retrying at the next poll'),
  });
  // events committed close together are sent in one round: one claim, one settle, side by side
  const wake = () => rounds.schedule(WAKE_DELAY_MS);
  const poll = setInterval(wake, pollMs);
  poll.unref();
  rounds.schedule(0);
  return {
    wake,
    async stop() {
      clearInterval(poll);
      stopping.abort();
      await rounds.drained();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/**
 * Runs `round` one at a time: `schedule(ms)` asks for a round in `ms` (a request while one runs
 * makes another follow it; a round that says more may be due is followed too), and each look
 * gives way to requests as BUSY_UTILIZATION says.
 */
function roundScheduler({
  round,
  signal,
  onError,
}: {
  round: () => Promise<boolean>;
  signal: AbortSignal;
  onError: (error: unknown) => void;
}) {
  // `next` is the timer of the next look, `again` a request that came while a round ran
  let running: Promise<void> | null = null;
  let again = false;
  let next: NodeJS.Timeout | null = null;
  let waitingSince = 0;
  let lastRoundMs = 0;
  let mark = performance.eventLoopUtilization();

  const lookIn = (ms: number) => {
    mark = performance.eventLoopUtilization();
    next = setTimeout(look, ms);
  };
  const schedule = (ms: number) => {
    if (signal.aborted) return;
    if (running) again = true;
    else if (!next) {
      waitingSince = performance.now();
      lookIn(ms);
    }
  };
  function look() {
    next = null;
    if (signal.aborted) return;
    const busy = performance.eventLoopUtilization(mark).utilization > BUSY_UTILIZATION;
    const mayWait = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, lastRoundMs * WAIT_PER_ROUND));
    if (busy && performance.now() - waitingSince < mayWait) return lookIn(LOOK_AGAIN_MS);
    again = false;
    const started = performance.now();
    running = round()
      .then((more) => {
        again ||= more;
      }, onError)
      .finally(() => {
        running = null;
        lastRoundMs = performance.now() - started;
        if (again) schedule(WAKE_DELAY_MS);
      });
  }
  return {
    schedule,
    /** after `signal` aborted: no look is left waiting, and the round under way has ended */
    async drained() {
      if (next) clearTimeout(next);
      await running;
    },
  };
}

function logFailure(log: DeliveryLog, delivery: Delivery, outcome: DeliveryOutcome & { kind: 'retry' | 'failed' }) {
  const why = outcome.status !== null ? { status: outcome.status } : { error: outcome.error };
  log.warn(
    {
      delivery: delivery.id,
      event: delivery.eventId,
      type: delivery.eventType,
      endpoint: endpointForLog(delivery.url),
      attempt: delivery.attempts + 1,
      ...why,
      ...(outcome.kind === 'retry' && { nextAttemptAt: new Date(outcome.nextAttemptAt).toISOString() }),
    },
    outcome.kind === 'retry' ? 'webhook delivery failed; it will be retried' : 'webhook delivery failed for good',
  );
}

/**
 * The `webhook-signature` of the Standard Webhooks spec: `v1,` + base64 HMAC-SHA256 of
 * `id.timestamp.body` under the secret's bytes. node:crypto rather than the library's own signer
 * (pure-JS SHA-256): 11 against 54 µs a request; the tests verify every request with the library.
 */
type Signer = (id: string, at: Date, body: string) => string;

function signer(secret: string): Signer {
  const key = webhookSecretKey(secret);
  return (id, at, body) =>
    `v1,${createHmac('sha256', key)
      .update(`${id}.${Math.floor(at.getTime() / 1000)}.${body}`)
      .digest('base64')}`;
}

/** One POST of one delivery, and what it means for the delivery. */
async function attempt(
  delivery: Delivery,
  { sign, timeoutMs, stop, agents }: { sign: Signer; timeoutMs: number; stop: AbortSignal; agents: Agents },
): Promise<DeliveryOutcome> {
  const sentAt = new Date();
  const retry = (status: number | null, error: string | null): DeliveryOutcome => {
    const nextAttemptAt = sentAt.getTime() + retryDelayMs(delivery.attempts + 1);
    return nextAttemptAt > delivery.giveUpAt
      ? { kind: 'failed', status, error: `${error ?? `HTTP ${status}`}; retried for a day` }
      : { kind: 'retry', status, error, nextAttemptAt };
  };
  let status: number;
  try {
    status = await post(delivery.url, {
      agents,
      timeoutMs,
      signal: stop,
      body: delivery.payload,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Chute-Webhooks/1',
        'webhook-id': delivery.eventId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': sign(delivery.eventId, sentAt, delivery.payload),
      },
    });
  } catch (error) {
    if (stop.aborted) return { kind: 'released' };
    return retry(null, error instanceof Error ? error.message : String(error));
  }
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 429 || status >= 500) return retry(status, `HTTP ${status}`);
  return { kind: 'failed', status, error: `HTTP ${status}` };
}

type Agents = { http: HttpAgent; https: HttpsAgent };

/**
 * A POST over node:http(s) on kept-alive connections, answered with the status once the response
 * is read (its body discarded). node:http rather than fetch: a third of fetch's CPU per request,
 * which the finishes sharing the process feel. No redirects are followed.
 */
function post(
  url: string,
  {
    agents,
    timeoutMs,
    signal,
    body,
    headers,
  }: { agents: Agents; timeoutMs: number; signal: AbortSignal; body: string; headers: Record<string, string> },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const request = send(target, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      signal,
      headers: { ...headers, 'content-length': Buffer.byteLength(body) },
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => {
        clearTimeout(timer);
        resolve(response.statusCode ?? 0);
      });
      response.on('error', () => undefined); // the request's own 'error' tells
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // the system's reason (ECONNREFUSED, ENOTFOUND, ...) rather than its long message
      reject(error.code && error.code !== 'ABORT_ERR' ? new Error(error.code) : error);
    });
    request.end(body);
  });
}
