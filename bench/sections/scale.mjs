// Section "scale": does a request cost more once the database holds many records? Two servers side
// by side, local storage: one whose database was seeded with 10,000 finished file records, one with
// 1,000,000 (cfg.scaleRows), about 1% of them (at most 1,000) the bench user's and the rest other
// users' (bench/seed.mjs). The bench user's file list, finish and start run at c=10 in alternating
// rounds (each size first in turn) so a drift of the machine falls on both alike; after each round
// the records it made are deleted, so every round starts at the seeded size. Reported: each size's
// median round, and per endpoint the cost ratio large/small (the small server's rate over the large one's).
import { log, median } from '../lib.mjs';
import { alternateRounds, medianRun, runLoad, warmUp } from '../load.mjs';
import { int, loadNotes, loadValue, makeRow, ms } from '../report.mjs';
import { deleteFilesAfter, seedFiles } from '../seed.mjs';
import { finishRound, prepareFinishes, startLoad } from './api.mjs';

export const SCALE_SMALL = 10_000;
const CONNECTIONS = 10;
const ROUNDS = 5;
const LIST = '/api/files/';
const PAGE = 20; // the list's default limit
/** the most the large database may cost per request, as a factor of the small one's */
const TARGETS = { list: 2, finish: 1.3, start: 1.3 };

/** 10,000 -> "10k", 1,000,000 -> "1M" */
const short = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

/** PostgreSQL: how much of each table VACUUM marked all-visible (index-only scans need it). */
const visibility = (seeds) =>
  seeds[0].allVisible === null
    ? ''
    : `; pages all-visible after VACUUM: ${seeds.map((seed) => `${Math.round(seed.allVisible * 100)}%`).join(' and ')}`;

/** The list as the bench user sees it: its count must be the seeded share, else the seeding missed the user. */
async function checkList(server, seed) {
  const response = await fetch(`${server.baseUrl}${LIST}`, { headers: server.auth });
  const body = await response.json();
  if (response.status !== 200 || body.count !== seed.own || body.results.length !== Math.min(PAGE, seed.own))
    throw new Error(
      `${LIST}: ${response.status}, count ${body.count} (seeded ${seed.own}), ${body.results?.length} results`,
    );
}

/** A figure row per size (its median round), then the ratio row with its target. */
function scaleRows({ endpoint, what, runs, seeds, dbName, notes = '' }) {
  const label = `local, ${dbName}, c=${CONNECTIONS}`;
  const mid = { small: medianRun(runs.small), large: medianRun(runs.large) };
  const sizeRows = Object.entries(mid).map(([side, run]) =>
    makeRow({
      section: 'scale',
      what: `${what}, ${label}, ${int(seeds[side].rows)} records (${int(seeds[side].own)} the user's)`,
      value: loadValue(run),
      notes: loadNotes(run, `median of ${ROUNDS} rounds: ${runs[side].map((r) => int(r.rps)).join(', ')} req/s`),
      data: { endpoint, db: dbName, records: seeds[side].rows, own: seeds[side].own, ...run, rounds: runs[side] },
    }),
  );
  const ratio = mid.small.rps / mid.large.rps;
  const cpuRatio = mid.large.serverCpuUsPerRequest / mid.small.serverCpuUsPerRequest;
  const byRound = runs.small.map((run, i) => (run.rps / runs.large[i].rps).toFixed(2)).join(' ');
  const sizes = `${short(seeds.large.rows)}/${short(seeds.small.rows)}`;
  return [
    ...sizeRows,
    makeRow({
      section: 'scale',
      what: `${what}, cost at ${sizes} records, ${label}`,
      value: `${ratio.toFixed(2)}× (${int(mid.small.rps)} → ${int(mid.large.rps)} req/s; p99 ${ms(mid.small.latencyMs.p99)} → ${ms(mid.large.latencyMs.p99)})`,
      target: `≤ ${TARGETS[endpoint]}×`,
      pass: ratio <= TARGETS[endpoint],
      ratio,
      notes: `${short(seeds.small.rows)} rate / ${short(seeds.large.rows)} rate of the median rounds; server CPU per request ${cpuRatio.toFixed(2)}× (${int(mid.small.serverCpuUsPerRequest)} → ${int(mid.large.serverCpuUsPerRequest)} µs); by round ${byRound}${notes ? `; ${notes}` : ''}`,
      data: { endpoint, db: dbName, ratio, cpuRatio, sizes: { small: seeds.small.rows, large: seeds.large.rows } },
    }),
  ];
}

async function measure({ servers, seeds, dbName, cfg, rows }) {
  const restore = (side) => deleteFilesAfter(seeds[side].databaseUrl, seeds[side].lastId);

  // the list first, while the user holds only its seeded records; then a deeper page, the small one's last
  await Promise.all(Object.entries(servers).map(([side, server]) => checkList(server, seeds[side])));
  const deep = Math.min(seeds.small.own, seeds.large.own) - PAGE;
  const listSeconds = Math.max(1, cfg.repeatSeconds / 2);
  for (const query of ['', `?offset=${deep}`]) {
    const what = `GET ${LIST}${query}`;
    const options = (server) => ({
      url: server.baseUrl,
      pid: server.pid,
      connections: CONNECTIONS,
      method: 'GET',
      path: `${LIST}${query}`,
      headers: server.auth,
    });
    for (const server of Object.values(servers)) await warmUp(options(server), cfg.warmupSeconds);
    const runs = await alternateRounds(what, servers, ROUNDS, (server) =>
      runLoad({ ...options(server), duration: listSeconds }),
    );
    rows.push(...scaleRows({ endpoint: 'list', what: `file list ${what}`, runs, seeds, dbName }));
  }

  // finish: each round's records started and uploaded through the API just before, deleted after
  const perRound = Math.floor(cfg.finishLocalN / ROUNDS);
  for (const [side, server] of Object.entries(servers)) {
    const warm = await prepareFinishes(server, Math.max(20, Math.round(perRound / 5)), CONNECTIONS);
    await finishRound(server, CONNECTIONS, warm);
    await restore(side);
  }
  const finishes = await alternateRounds(
    'finish',
    servers,
    ROUNDS,
    async (server) => finishRound(server, CONNECTIONS, await prepareFinishes(server, perRound, CONNECTIONS)),
    { after: restore },
  );
  rows.push(
    ...scaleRows({
      endpoint: 'finish',
      what: `finish, ${int(perRound)} distinct uploaded unfinished records a round`,
      runs: finishes,
      seeds,
      dbName,
    }),
  );

  // start last: each round adds its records (deleted after it)
  for (const server of Object.values(servers)) await warmUp(startLoad(server, CONNECTIONS), cfg.warmupSeconds);
  await Promise.all(Object.keys(servers).map(restore));
  const starts = await alternateRounds(
    'start',
    servers,
    ROUNDS,
    (server) => runLoad({ ...startLoad(server, CONNECTIONS), duration: cfg.repeatSeconds }),
    { after: restore },
  );
  const added = int(median(starts.small.map((run) => run.ok)));
  rows.push(
    ...scaleRows({
      endpoint: 'start',
      what: 'start',
      runs: starts,
      seeds,
      dbName,
      notes: `a round adds about ${added} records to the small database`,
    }),
  );
}

/**
 * @param {{ dbName: 'SQLite'|'PostgreSQL', withServer: (options, work) => Promise<void>,
 *   createDatabase?: () => Promise<{url: string, drop: () => Promise<void>}>, cfg, rows: object[] }} ctx
 *   withServer starts (startChute's options) and always stops a server; createDatabase: a fresh
 *   PostgreSQL database (SQLite: none, each server has its temp file)
 */
export async function benchScale({ dbName, withServer, createDatabase, cfg, rows }) {
  const sizes = { small: SCALE_SMALL, large: cfg.scaleRows };
  if (!Number.isSafeInteger(sizes.large) || sizes.large <= SCALE_SMALL)
    throw new Error(`BENCH_SCALE_ROWS must be a whole number above ${int(SCALE_SMALL)}, not ${cfg.scaleRows}`);
  const databases = {};
  const seeds = {};
  const options = (side) => ({
    storage: 'local',
    label: `scale-${dbName.toLowerCase()}-${short(sizes[side])}`,
    databaseUrl: databases[side]?.url,
    beforeStart: async ({ databaseUrl, email }) => {
      log(`scale, ${dbName}: seeding ${int(sizes[side])} records`);
      seeds[side] = await seedFiles(databaseUrl, { rows: sizes[side], ownerEmail: email });
      log(
        `scale, ${dbName}: ${int(sizes[side])} records seeded in ${seeds[side].seconds.toFixed(1)} s${visibility([seeds[side]])}`,
      );
    },
  });
  try {
    if (createDatabase) for (const side of Object.keys(sizes)) databases[side] = await createDatabase();
    await withServer(options('small'), (small) =>
      withServer(options('large'), async (large) => {
        const seeded = Object.values(seeds);
        rows.push(
          makeRow({
            section: 'scale',
            what: `seeding the databases, ${dbName}`,
            value: seeded.map((seed) => `${int(seed.rows)} records in ${seed.seconds.toFixed(1)} s`).join('; '),
            notes: `one INSERT ... SELECT over a generated series, before the server starts; all finished, ${seeded.map((seed) => int(seed.own)).join(' and ')} of them the bench user's, the rest other users'${visibility(seeded)}`,
            data: {
              db: dbName,
              seeds: seeded.map(({ rows, own, seconds, allVisible }) => ({ rows, own, seconds, allVisible })),
            },
          }),
        );
        await measure({ servers: { small, large }, seeds, dbName, cfg, rows });
      }),
    );
  } finally {
    for (const database of Object.values(databases)) await database.drop();
  }
}
