// Section "webhooks": what sending webhooks costs the finish. Two servers side by side, one with
// WEBHOOK_URLS (to the sink) and one without, each with its own uploaded, unfinished records; the
// finishes run in alternating rounds, each side first in turn, so a drift of the machine falls on
// both alike, and the ratio of the medians is reported. After each round with webhooks the bench
// waits until the sink has every event of it (distinct webhook-ids), so no backlog is carried into
// the next round, and says how long that took after the last finish.
import { alternateRounds } from '../load.mjs';
import { log, median } from '../lib.mjs';
import { int, makeRow } from '../report.mjs';
import { finishRound, prepareFinishes } from './api.mjs';

// 7 rounds of a fifth of cfg.finishLocalN each, after a warm-up round as long: with 5 rounds and a
// warm-up a fifth as long, the first rounds still ran 30-40% slower than the last on both sides
const ROUNDS = 7;
const TARGET = 0.9;
const DRAIN_LIMIT_MS = 60_000;

const webhookCount = async (sink) => (await fetch(`${sink.url}/webhooks/count`)).json();

/** Waits until the sink has `expected` distinct webhook ids: how long that took, and what came. */
async function awaitWebhooks(sink, expected) {
  const started = performance.now();
  let count = await webhookCount(sink);
  while (count.distinct < expected && performance.now() - started < DRAIN_LIMIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    count = await webhookCount(sink);
  }
  return { expected, ...count, seconds: (performance.now() - started) / 1000 };
}

/**
 * @param {{ off, on, sink, cfg, rows: object[] }} ctx off/on: local SQLite servers without and with
 * webhooks (sent to the sink); cfg.finishLocalN finishes per server and connection count
 */
export async function benchWebhooks({ off, on, sink, cfg, rows }) {
  const perRound = Math.floor(cfg.finishLocalN / 5);
  let sent = (await webhookCount(sink)).distinct;
  for (const connections of cfg.connections) {
    const warm = perRound;
    log(`webhooks c=${connections}: preparing ${perRound * ROUNDS + warm} records on each server`);
    const offIds = await prepareFinishes(off, perRound * ROUNDS + warm, connections);
    const onIds = await prepareFinishes(on, perRound * ROUNDS + warm, connections);
    await finishRound(off, connections, offIds.splice(0, warm));
    await finishRound(on, connections, onIds.splice(0, warm));
    await awaitWebhooks(sink, (sent += warm));

    const ids = { off: offIds, on: onIds };
    const drains = [];
    const runs = await alternateRounds(
      'finish, webhooks',
      { off, on },
      ROUNDS,
      (server, side) => finishRound(server, connections, ids[side].splice(0, perRound)),
      {
        expected: perRound,
        after: async (side) => {
          if (side !== 'on') return;
          const drain = await awaitWebhooks(sink, (sent += perRound));
          log(
            `  events: ${drain.distinct - (sent - perRound)} of ${perRound}, all in ${drain.seconds.toFixed(2)} s after`,
          );
          drains.push(drain);
        },
      },
    );
    const pairs = runs.on.map((run, i) => ({ off: runs.off[i], on: run, drain: drains[i] }));
    rows.push(ratioRow({ connections, perRound, pairs }));
  }
}

function ratioRow({ connections, perRound, pairs }) {
  const offRps = median(pairs.map((pair) => pair.off.rps));
  const onRps = median(pairs.map((pair) => pair.on.rps));
  const ratio = onRps / offRps;
  const lost = pairs.reduce((sum, { drain }) => sum + Math.max(0, drain.expected - drain.distinct), 0);
  const twice = pairs.reduce((sum, { drain }) => sum + (drain.received - drain.distinct), 0);
  const drainSeconds = pairs.map(({ drain }) => drain.seconds.toFixed(1));
  return makeRow({
    section: 'webhooks',
    what: `finish with webhooks on / off, local, SQLite, c=${connections}`,
    value: `${int(onRps)} / ${int(offRps)} req/s`,
    target: `≥ ${TARGET.toFixed(2)}, every event delivered`,
    pass: ratio >= TARGET && lost === 0,
    ratio,
    notes: [
      `medians of ${pairs.length} alternating rounds of ${int(perRound)} finishes each`,
      `on/off by round ${pairs.map((pair) => (pair.on.rps / pair.off.rps).toFixed(2)).join(' ')}`,
      lost ? `${lost} events not delivered within ${DRAIN_LIMIT_MS / 1000} s` : 'every event delivered',
      `the last event of a round ${drainSeconds.join(' ')} s after its last finish`,
      twice ? `${twice} sent twice` : '',
    ]
      .filter(Boolean)
      .join('; '),
    data: { connections, perRound, ratio, pairs },
  });
}
