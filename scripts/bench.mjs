#!/usr/bin/env node
// `npm run bench`: Chute's speed, measured against a server started as a user starts it.
// The sections live in bench/sections/; results go to bench/results/ (JSON and Markdown).
//
//   BENCH_QUICK=1              short smoke run (small sizes and durations; figures not comparable)
//   BENCH_ONLY=start,finish    sections: start, finish, webhooks, embedded, trickle, stream, zerobytes,
//                              multipart, uppy, scale, compare (default: all; compare only with
//                              BENCH_BASE_DIR)
//   BENCH_DATABASE_URL=postgres://user:pass@host/db
//                              also run start, finish and scale on PostgreSQL (a fresh database is
//                              made next to the one named, and dropped after)
//   BENCH_SCALE_ROWS=1000000   section "scale": records in the large database (10,000 in the small
//                              one; BENCH_QUICK: 100,000)
//   S3_ENDPOINT (+ S3_ACCESS_KEY, S3_SECRET_KEY)
//                              an S3 to use instead of starting a local Ceph RGW
//   BENCH_CPU_PROF=1           run each server under `node --cpu-prof`; summaries go in the report
//   BENCH_MAX_MINUTES=45       the whole run is stopped after this long
//   BENCH_NICE=-10             run the bench and everything it starts (server, sink, RGW) at this
//                              nice value: on a machine shared with other work, a negative one
//                              (root only) keeps the neighbours from setting the figures
//   BENCH_APP_DIR=<dir>        measure the Chute checkout there instead of this one, e.g. a commit
//                              while the work tree is in flux: `git clone -q --shared . /tmp/c &&
//                              git -C /tmp/c checkout <commit> && ln -s $PWD/node_modules /tmp/c/`
//   BENCH_BASE_DIR=<dir>       section "compare": start and finish of that checkout (made the same
//                              way) against this one's, in alternating rounds, as head/base ratios
//   BENCH_COMPARE_STORAGE=s3   compare start and Uppy's params in S3 mode (they sign a POST policy
//                              and a PUT URL and never reach the storage, so no RGW is started;
//                              finish is left out)
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GiB, log, machineInfo, MiB } from '../bench/lib.mjs';
import { startSink } from '../bench/load.mjs';
import { summarizeFile } from '../bench/profile.mjs';
import { int, makeRow, ms, writeReport } from '../bench/report.mjs';
import { startS3 } from '../bench/s3.mjs';
import { benchStartFinish, measureCeilings, START_TARGETS } from '../bench/sections/api.mjs';
import { benchCompare } from '../bench/sections/compare.mjs';
import { benchEmbedded } from '../bench/sections/embedded.mjs';
import { benchMultipart } from '../bench/sections/multipart.mjs';
import { benchScale, SCALE_SMALL } from '../bench/sections/scale.mjs';
import { benchStream } from '../bench/sections/stream.mjs';
import { benchTrickle } from '../bench/sections/trickle.mjs';
import { benchUppy } from '../bench/sections/uppy.mjs';
import { benchWebhooks } from '../bench/sections/webhooks.mjs';
import { benchZeroBytes } from '../bench/sections/zero-bytes.mjs';
import { APP_DIR, appVersion, createPgDatabase, killServers, startChute, startExpressHost } from '../bench/server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench/results');
const SECTIONS = [
  'start',
  'finish',
  'webhooks',
  'embedded',
  'trickle',
  'stream',
  'zerobytes',
  'multipart',
  'uppy',
  'scale',
  'compare',
];

const quick = process.env.BENCH_QUICK === '1';
const cfg = quick
  ? {
      connections: [10, 100],
      warmupSeconds: 1,
      loadSeconds: 2,
      repeatSeconds: 1,
      headSeconds: 1,
      finishLocalN: 400,
      finishS3N: 60,
      trickleClients: 200,
      trickleBytesPerSecond: 32 * 1024,
      trickleSeconds: 6,
      trickleLoadSeconds: 3,
      trickleConnections: 10,
      streamBytes: 64 * MiB,
      streamRounds: 1,
      zeroUploads: 10,
      multipartBytes: 64 * MiB,
      multipartRounds: 1,
      multipartChecksumRounds: 1,
      scaleRows: Number(process.env.BENCH_SCALE_ROWS ?? 100_000),
    }
  : {
      connections: [10, 100],
      warmupSeconds: 2,
      loadSeconds: 10,
      repeatSeconds: 4,
      headSeconds: 3,
      finishLocalN: 5000,
      finishS3N: 1000,
      trickleClients: 200,
      trickleBytesPerSecond: 32 * 1024,
      trickleSeconds: 20,
      trickleLoadSeconds: 14,
      trickleConnections: 10,
      streamBytes: GiB,
      streamRounds: 2,
      zeroUploads: 100,
      multipartBytes: GiB,
      multipartRounds: 2,
      multipartChecksumRounds: 1,
      scaleRows: Number(process.env.BENCH_SCALE_ROWS ?? 1_000_000),
    };

const onlyList = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);
for (const name of onlyList) {
  if (!SECTIONS.includes(name)) {
    console.error(`BENCH_ONLY: unknown section "${name}" (known: ${SECTIONS.join(', ')})`);
    process.exit(2);
  }
}
const baseDir = process.env.BENCH_BASE_DIR ? resolve(process.env.BENCH_BASE_DIR) : null;
const only = new Set(onlyList.length ? onlyList : SECTIONS.filter((name) => name !== 'compare' || baseDir));
const wants = (...names) => names.some((name) => only.has(name));
for (const [variable, dir] of [
  ['BENCH_APP_DIR', APP_DIR],
  ['BENCH_BASE_DIR', baseDir],
]) {
  if (dir && !existsSync(join(dir, 'src/server.ts'))) {
    console.error(`${dir} has no src/server.ts: ${variable} must be a Chute checkout`);
    process.exit(2);
  }
}
if (only.has('compare') && !baseDir) {
  console.error('BENCH_ONLY=compare needs BENCH_BASE_DIR=<the checkout to compare with>');
  process.exit(2);
}
const pgUrl = process.env.BENCH_DATABASE_URL;
if (pgUrl && !/^postgres(ql)?:\/\//.test(pgUrl)) {
  console.error('BENCH_DATABASE_URL must be postgres://user:pass@host:port/db');
  process.exit(2);
}

// children inherit the nice value: set it before anything is started
const nice = process.env.BENCH_NICE ? Number(process.env.BENCH_NICE) : null;
if (nice !== null) {
  try {
    setPriority(0, nice);
    // with autogroup scheduling, nice only ranks processes within one session: the session's
    // group (this process and all it starts) gets the same nice against the other sessions
    if (existsSync('/proc/self/autogroup')) writeFileSync('/proc/self/autogroup', String(nice));
  } catch (error) {
    console.error(`BENCH_NICE=${process.env.BENCH_NICE}: ${error.message}`);
    process.exit(2);
  }
}

const startedAt = new Date().toISOString();
const stamp = startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
const cpuProfDir = process.env.BENCH_CPU_PROF === '1' ? join(RESULTS, 'prof', stamp) : null;
const t0 = performance.now();

// the whole run is bounded in time, whatever hangs
const maxMinutes = Number(process.env.BENCH_MAX_MINUTES ?? 45);
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${maxMinutes} minutes; stopping`);
  killServers();
  process.exit(1);
}, maxMinutes * 60_000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killServers();
    process.exit(130);
  });
}

const report = {
  startedAt,
  quick,
  machine: machineInfo(),
  app: await appVersion(),
  base: baseDir ? await appVersion(baseDir) : null,
  tools: { autocannon: JSON.parse(readFileSync(join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version },
  sections: [...only],
  config: cfg,
  databases: ['SQLite'],
  s3: null,
  cpuProfile: cpuProfDir !== null,
  nice,
  seconds: 0,
  rows: [],
  failures: [],
  servers: [],
  profiles: [],
};
const rows = report.rows;

/** One server for the duration of `work`; always stopped, its profile summarised when asked. */
async function withServer(options, work, start = startChute) {
  const server = await start({ ...options, cpuProfDir });
  try {
    await work(server);
  } finally {
    await server.stop();
    report.servers.push({ label: server.label, warnings: server.warnings() });
    if (server.warnings())
      log(
        `${server.label}: the server logged ${server.warnings()} warnings/errors; last output:\n${server.output().slice(-1500)}`,
      );
    // the main thread's profile: CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile (thread 0)
    const dir = cpuProfDir && join(cpuProfDir, server.label);
    const main =
      dir && existsSync(dir)
        ? readdirSync(dir).find((name) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(name))
        : null;
    if (main)
      report.profiles.push({
        label: server.label,
        file: join(dir, main).replace(ROOT, ''),
        skippedMs: server.readyAfterMs,
        summary: summarizeFile(join(dir, main), 20, server.readyAfterMs),
      });
  }
}

/** A checkout's commit as the report names it, with "+N files" when its work tree differs. */
const versionLabel = ({ dir, commit, changedFiles }) =>
  commit ? `${commit}${changedFiles ? ` (+${changedFiles} changed files)` : ''}` : dir;

const BENCH_WEBHOOK_SECRET = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;

async function section(name, work) {
  const started = performance.now();
  log(`== ${name}`);
  try {
    await work();
  } catch (error) {
    log(`${name} FAILED: ${error.stack ?? error}`);
    report.failures.push({ section: name, error: String(error.message ?? error).slice(0, 500) });
  }
  log(`== ${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

log(
  `${quick ? 'QUICK ' : ''}run of ${[...only].join(', ')} on ${report.machine.cpuModel} (${report.machine.cores} cores), node ${process.version}`,
);
let sink = null;
let s3 = null;
try {
  let ceilings = {};
  if (wants('start', 'finish', 'webhooks', 'stream')) sink = await startSink();
  if (wants('start', 'finish')) {
    await section('ceiling (bare node http)', async () => {
      ceilings = await measureCeilings(sink, cfg);
      for (const c of cfg.connections) {
        rows.push(
          makeRow({
            section: 'ceiling',
            what: `bare node http server answering the same JSON POST, c=${c}`,
            value: `${int(ceilings[c])} req/s; p99 ${ms(ceilings[`p99_${c}`])}`,
            notes: 'what this machine and load generator allow; no framework, no database',
          }),
        );
      }
    });
  }

  const api = (server, mode, dbName, extra = {}) =>
    benchStartFinish({ server, mode, dbName, cfg, ceilings, rows, only, ...extra });

  // finish reads each upload's first bytes (FILE_VERIFY_CONTENT): the same finish without it, to see the cost
  const contentCheckOff = { env: { FILE_VERIFY_CONTENT: 'false' } };
  const finishOnly = { only: new Set(['finish']), verifyContent: false };
  if (wants('start', 'finish')) {
    await section('start/finish, local, SQLite', () =>
      withServer({ storage: 'local', label: 'local-sqlite' }, (server) => api(server, 'local', 'SQLite')),
    );
  }
  if (wants('finish')) {
    await section('finish, local, SQLite, FILE_VERIFY_CONTENT=false', () =>
      withServer({ storage: 'local', label: 'local-sqlite-nocheck', ...contentCheckOff }, (server) =>
        api(server, 'local', 'SQLite', finishOnly),
      ),
    );
  }
  if (wants('webhooks')) {
    // the finishes of a server that writes an outbox row in each finish's transaction and signs and
    // POSTs every event (to the sink), against the same server without webhooks, in alternating rounds
    const webhookEnv = { WEBHOOK_URLS: `${sink.url}/webhooks`, WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET };
    await section('webhooks: finish with webhooks on against off, local, SQLite', () =>
      withServer({ storage: 'local', label: 'local-sqlite-webhooks-off' }, (off) =>
        withServer({ storage: 'local', label: 'local-sqlite-webhooks-on', env: webhookEnv }, (on) =>
          benchWebhooks({ off, on, sink, cfg, rows }),
        ),
      ),
    );
  }
  if (wants('embedded')) {
    await section('embedded: start inside Express vs standalone, local, SQLite', async () => {
      if (!existsSync(join(APP_DIR, 'packages/server/src/index.ts')))
        throw new Error(`${APP_DIR} has no packages/server (@chute/server): nothing to embed`);
      await withServer({ storage: 'local', label: 'embedded-standalone' }, (standalone) =>
        withServer(
          { label: 'embedded-express' },
          (host) => benchEmbedded({ standalone, host, cfg, rows }),
          startExpressHost,
        ),
      );
    });
  }
  if (wants('compare')) {
    const labels = { base: versionLabel(report.base), head: versionLabel(report.app) };
    const storage = process.env.BENCH_COMPARE_STORAGE === 's3' ? 's3' : 'local';
    // no S3 answers here: a start and Uppy's params only sign, and a finish is not compared in this mode
    const s3 = {
      endpoint: 'http://127.0.0.1:9',
      accessKeyId: 'compare',
      secretAccessKey: 'compare',
      bucket: 'compare',
    };
    await section(`compare: ${labels.head} against ${labels.base}, ${storage}, SQLite`, () =>
      withServer({ storage, s3, label: 'compare-base', appDir: baseDir }, (base) =>
        withServer({ storage, s3, label: 'compare-head' }, (head) =>
          benchCompare({ base, head, labels, cfg, rows, storage }),
        ),
      ),
    );
  }
  if (wants('trickle')) {
    await section('trickle', () =>
      withServer({ storage: 'local', label: 'trickle' }, (server) => benchTrickle({ server, cfg, rows })),
    );
  }
  if (wants('stream')) {
    await section('stream', () =>
      withServer({ storage: 'local', label: 'stream' }, (server) => benchStream({ server, sink, cfg, rows })),
    );
  }
  if (wants('start', 'finish', 'zerobytes', 'multipart', 'uppy')) {
    await section('S3 (RGW)', async () => {
      s3 = await startS3();
      report.s3 = s3.external ? `S3_ENDPOINT ${s3.endpoint}` : 'local Ceph RGW (scripts/local-s3), same machine';
      await withServer({ storage: 's3', s3, label: 's3-sqlite' }, async (server) => {
        if (wants('start', 'finish'))
          await section('start/finish, S3, SQLite', () => api(server, 's3', 'SQLite', { s3 }));
        if (wants('zerobytes')) await section('zerobytes', () => benchZeroBytes({ server, cfg, rows }));
        if (wants('multipart')) await section('multipart', () => benchMultipart({ server, s3, cfg, rows }));
        if (wants('uppy'))
          await section('uppy: Uppy routes and Uppy Companion, S3, SQLite', () => benchUppy({ server, s3, cfg, rows }));
      });
      if (wants('finish')) {
        await withServer({ storage: 's3', s3, label: 's3-sqlite-nocheck', ...contentCheckOff }, (server) =>
          section('finish, S3, SQLite, FILE_VERIFY_CONTENT=false', () =>
            api(server, 's3', 'SQLite', { s3, ...finishOnly }),
          ),
        );
      }
    });
  }
  if (pgUrl && wants('start', 'finish')) {
    await section('start/finish, local, PostgreSQL', async () => {
      const db = await createPgDatabase(pgUrl);
      report.databases.push('PostgreSQL');
      try {
        await withServer({ storage: 'local', databaseUrl: db.url, label: 'local-postgres' }, (server) =>
          api(server, 'local', 'PostgreSQL'),
        );
      } finally {
        await db.drop();
      }
    });
  }
  if (!pgUrl && wants('start', 'finish', 'scale')) {
    // issue 15 sets a PostgreSQL target too: its absence is a row, not silence
    rows.push(
      makeRow({
        section: 'start',
        what: 'start, finish and scale on PostgreSQL',
        value: 'not measured',
        target: `start ≥ ${int(START_TARGETS.PostgreSQL.rps)} req/s at p99 ≤ ${START_TARGETS.PostgreSQL.p99} ms`,
        notes:
          'set BENCH_DATABASE_URL=postgres://... (a PostgreSQL on this machine, e.g. `scripts/ci/postgres.sh` on Debian, as root)',
      }),
    );
  }
  if (wants('scale')) {
    // a server per size side by side, each database seeded before its server starts
    const scale = (dbName, createDatabase) =>
      section(`scale: ${int(SCALE_SMALL)} against ${int(cfg.scaleRows)} records, local, ${dbName}`, () =>
        benchScale({ dbName, withServer, createDatabase, cfg, rows }),
      );
    await scale('SQLite');
    if (pgUrl) {
      if (!report.databases.includes('PostgreSQL')) report.databases.push('PostgreSQL');
      await scale('PostgreSQL', () => createPgDatabase(pgUrl));
    }
  }
} finally {
  await sink?.stop();
  await s3?.stop().catch((error) => log(`S3 stop: ${error.message}`));
}

report.seconds = Math.round((performance.now() - t0) / 1000);
const { md, files } = await writeReport(RESULTS, report);
process.stdout.write(`\n${md}\n`);
log(`written: ${files.map((f) => f.replace(`${ROOT}`, '')).join(', ')}`);
clearTimeout(watchdog);
process.exit(report.failures.length ? 1 : 0);
