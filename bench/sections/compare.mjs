// Section "compare": is this checkout slower than another commit? Two servers side by side, one
// running the base checkout (BENCH_BASE_DIR) and one this one (or BENCH_APP_DIR), local storage (or
// S3 for start and Uppy's params alone: BENCH_COMPARE_STORAGE=s3) and SQLite; start and finish run in alternating rounds so a drift of the machine falls on both alike,
// and the ratio of the medians is reported per endpoint and concurrency. Which side goes first
// changes every round: with a fixed order a commit compared with itself came out 3-9% faster in
// the second slot. A base compared with itself shows the noise of the method on this machine.
import { log, median } from '../lib.mjs';
import { alternateRounds, runLoad, warmUp } from '../load.mjs';
import { int, makeRow, ms } from '../report.mjs';
import { finishRound, prepareFinishes, startLoad } from './api.mjs';
import { paramsLoad } from './uppy.mjs';

const ROUNDS = 5;
/** "no slower": the head's median within this of the base's (the A/A spread of the method here) */
export const COMPARE_MIN_RATIO = 0.95;

/** What each endpoint compared sends (runLoad's options) to a server at `connections`. */
const LOADS = {
  start: (server, connections) => startLoad(server, connections),
  // a presigned PUT: the URL signer's work, where a start signs a POST policy
  'Uppy params': (server, connections) => ({ connections, ...paramsLoad(server) }),
};

/** Alternating rounds of `endpoint`, cfg.repeatSeconds each, on both servers; the runs of each side. */
async function loadRounds(endpoint, servers, connections, cfg) {
  const load = (server) => LOADS[endpoint](server, connections);
  for (const server of Object.values(servers)) await warmUp(load(server), cfg.warmupSeconds);
  return alternateRounds(endpoint, servers, ROUNDS, (server) =>
    runLoad({ ...load(server), duration: cfg.repeatSeconds }),
  );
}

/** Alternating finish rounds of `perRound` distinct uploaded records on both servers. */
async function finishRounds(servers, connections, perRound) {
  const ids = {};
  const warm = Math.max(20, Math.round(perRound / 5));
  for (const [side, server] of Object.entries(servers)) {
    log(`compare c=${connections}: preparing ${perRound * ROUNDS + warm} records on ${side}`);
    ids[side] = await prepareFinishes(server, perRound * ROUNDS + warm, connections);
    await finishRound(server, connections, ids[side].splice(0, warm));
  }
  return alternateRounds(
    'finish',
    servers,
    ROUNDS,
    (server, side) => finishRound(server, connections, ids[side].splice(0, perRound)),
    { expected: perRound },
  );
}

function ratioRow({ endpoint, connections, runs, labels, perRound, storage }) {
  const rps = (side) => median(runs[side].map((run) => run.rps));
  const p99 = (side) => median(runs[side].map((run) => run.latencyMs.p99));
  const ratio = rps('head') / rps('base');
  const byRound = runs.head.map((run, i) => (run.rps / runs.base[i].rps).toFixed(2)).join(' ');
  return makeRow({
    section: 'compare',
    what: `${endpoint}, ${labels.head} against ${labels.base}, ${storage}, SQLite, c=${connections}`,
    value: `${int(rps('head'))} / ${int(rps('base'))} req/s; p99 ${ms(p99('head'))} / ${ms(p99('base'))}`,
    target: `≥ ${COMPARE_MIN_RATIO.toFixed(2)} × base`,
    pass: ratio >= COMPARE_MIN_RATIO,
    ratio,
    notes: `medians of ${ROUNDS} alternating rounds (each side first in turn)${perRound ? ` of ${int(perRound)} finishes` : ''}; head/base by round ${byRound}`,
    data: { endpoint, connections, ratio, labels, runs },
  });
}

/**
 * @param {{ base, head, labels: {base: string, head: string}, cfg, rows: object[], storage: 'local'|'s3' }} ctx
 * both servers running on `storage` and SQLite (s3: start only); labels say which commit each runs
 */
export async function benchCompare({ base, head, labels, cfg, rows, storage = 'local' }) {
  const servers = { base, head };
  const perRound = Math.floor(cfg.finishLocalN / ROUNDS);
  for (const connections of cfg.connections) {
    for (const endpoint of storage === 'local' ? ['start'] : ['start', 'Uppy params']) {
      const runs = await loadRounds(endpoint, servers, connections, cfg);
      rows.push(ratioRow({ endpoint, connections, runs, labels, storage }));
      log(`compare c=${connections}: ${endpoint} ${rows.at(-1).ratio.toFixed(2)}`);
    }
    if (storage !== 'local') continue;
    const finishes = await finishRounds(servers, connections, perRound);
    rows.push(ratioRow({ endpoint: 'finish', connections, runs: finishes, labels, perRound, storage }));
    log(`compare c=${connections}: finish ${rows.at(-1).ratio.toFixed(2)}`);
  }
}
