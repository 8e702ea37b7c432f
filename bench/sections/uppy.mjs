// Section "uppy": the Companion-style S3 routes Chute serves for @uppy/aws-s3 (its `endpoint` =
// <APP_DOMAIN>/api/uppy) against Chute's own direct start, S3 mode, and Uppy Companion 6.2.2's
// GET /s3/params (bench/peers/companion.mjs, its own process) signing for the same RGW bucket, all
// in one run. The targets take turns (start, params, multipart, part, Companion, start, ...) for
// ROUNDS rounds, so a drift of the machine falls on all alike; each one's median round is reported.
//
// Companion is not a dependency of Chute: bench/peers has its own package.json and lock, installed
// there (npm ci) the first time this section runs.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { freePort, log, mapLimit, MiB, withTimeout } from '../lib.mjs';
import { describeLoad, medianRun, runLoad, warmUp } from '../load.mjs';
import { int, loadNotes, loadValue, makeRow } from '../report.mjs';
import { jsonHeaders, startLoad } from './api.mjs';

/** issue 15: Uppy's routes within 10% of Chute's own start */
export const UPPY_MIN_RATIO = 0.9;
const ROUNDS = 3;
const PEERS = fileURLToPath(new URL('../peers/', import.meta.url));
const PARAMS_QUERY = '?filename=photo.jpg&type=image/jpeg';
const CREATE_BODY = JSON.stringify({
  filename: 'video.mp4',
  type: 'video/mp4',
  metadata: { name: 'video.mp4', type: 'video/mp4' },
});

const chuteLoad = (server, request) => ({ url: server.baseUrl, pid: server.pid, ...request });
/** Uppy's getUploadParameters on a Chute server: a record and a presigned PUT (no call to the storage). */
export const paramsLoad = (server) =>
  chuteLoad(server, { method: 'GET', path: `/api/uppy/s3/params${PARAMS_QUERY}`, headers: server.auth });
/** What each target sends (runLoad's options), given the Chute server, Companion and one open Uppy upload. */
const TARGETS = [
  {
    name: 'start',
    what: 'Chute `POST /api/files/upload/direct/start/` (the reference)',
    note: 'a record and a presigned POST policy per request',
    load: ({ server }, connections) => startLoad(server, connections),
  },
  {
    name: 'params',
    what: 'Chute `GET /api/uppy/s3/params` (Uppy getUploadParameters)',
    judged: true,
    note: 'a record and a presigned PUT per request',
    load: ({ server }) => paramsLoad(server),
  },
  {
    name: 'multipart',
    what: 'Chute `POST /api/uppy/s3/multipart` (Uppy createMultipartUpload)',
    judged: true,
    note: 'a record and an RGW CreateMultipartUpload per request: each waits for RGW',
    load: ({ server }) =>
      chuteLoad(server, {
        method: 'POST',
        path: '/api/uppy/s3/multipart',
        headers: jsonHeaders(server),
        body: CREATE_BODY,
      }),
  },
  {
    name: 'part',
    what: 'Chute `GET /api/uppy/s3/multipart/:uploadId/1?key=` (Uppy signPart)',
    judged: true,
    note: 'one upload made beforehand: its record looked up and a part URL signed per request',
    load: ({ server, upload }) =>
      chuteLoad(server, {
        method: 'GET',
        path: `/api/uppy/s3/multipart/${encodeURIComponent(upload.uploadId)}/1?key=${encodeURIComponent(upload.key)}`,
        headers: server.auth,
      }),
  },
  {
    name: 'companion',
    what: 'Uppy Companion 6.2.2 `GET /s3/params` in Express 4',
    where: 'the same RGW bucket',
    note: "no authentication, no record: a POST policy signed locally; ratio = Chute's params / Companion's params (informational)",
    load: ({ companion }) => ({
      url: companion.baseUrl,
      pid: companion.pid,
      method: 'GET',
      path: `/s3/params${PARAMS_QUERY}`,
    }),
  },
];

/** bench/peers/node_modules, installed from its lock the first time (it is git-ignored). */
async function installPeers() {
  if (existsSync(join(PEERS, 'node_modules/@uppy/companion/package.json'))) return;
  log('uppy: bench/peers/node_modules is missing; installing Uppy Companion 6.2.2 there, once (npm ci)...');
  try {
    await promisify(execFile)('npm', ['ci', '--prefix', PEERS, '--no-audit', '--no-fund'], {
      cwd: PEERS,
      timeout: 300_000,
      maxBuffer: 16 * MiB,
    });
  } catch (error) {
    const detail = String(error.stderr || error.message)
      .trim()
      .slice(-1500);
    throw new Error(`npm ci --prefix bench/peers failed, so Uppy Companion cannot be measured:\n${detail}`);
  }
}

/** bench/peers/companion.mjs on a free port, signing for `s3`'s bucket; stop() ends it. */
async function startCompanion(s3) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(PEERS, 'companion.mjs')], {
    cwd: PEERS,
    // only what it needs: nothing of the bench's environment (AWS_*, npm_*) reaches it
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      PORT: String(port),
      S3_ENDPOINT: s3.endpoint,
      S3_KEY: s3.accessKeyId,
      S3_SECRET: s3.secretAccessKey,
      S3_BUCKET: s3.bucket,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // the bench's watchdog and signal handlers end in process.exit: Companion must not outlive it
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let output = '';
  const keep = (chunk) => (output = (output + chunk).slice(-4000));
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode) return;
    child.kill('SIGTERM');
    await withTimeout(exited, 10_000, 'Companion stop').catch(() => child.kill('SIGKILL'));
  };
  try {
    await withTimeout(
      new Promise((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
          keep(chunk);
          if (/^ready$/m.test(output)) resolve();
        });
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`Companion exited (${code}) during start:\n${output}`)));
      }),
      30_000,
      'Companion start',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl: `http://127.0.0.1:${port}`, pid: child.pid, output: () => output.trim(), stop };
}

/** One request as the load sends it (runLoad's default method too): its JSON answer, or a throw on anything but 2xx. */
async function answer(name, { url, method = 'POST', path, headers, body }) {
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`uppy ${name}: ${method} ${path} answered ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Every target once, with a check that both params answers sign for the bucket under test. */
async function checkTargets(ctx, bucket) {
  for (const target of TARGETS) {
    const body = await answer(target.name, target.load(ctx, 1));
    if (target.name === 'params' || target.name === 'companion') {
      if (!String(body.url).includes(bucket))
        throw new Error(`uppy ${target.name}: signed for ${body.url}, not ${bucket}`);
    }
  }
}

/** Warm-up, then ROUNDS rounds of every target in turn at `connections`: each target's runs. */
async function rounds(ctx, connections, cfg) {
  const options = (target) => ({ connections, ...target.load(ctx, connections) });
  for (const target of TARGETS) await warmUp(options(target), cfg.warmupSeconds);
  const runs = Object.fromEntries(TARGETS.map((target) => [target.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of TARGETS) {
      const run = await runLoad({ ...options(target), duration: cfg.repeatSeconds });
      describeLoad(`uppy ${target.name} (round ${round + 1})`, run);
      if (run.bad || run.errors)
        throw new Error(
          `uppy ${target.name}: ${run.bad} non-OK ${JSON.stringify(run.statuses)}, ${run.errors} errors ${run.errorSamples.join(' ')}`,
        );
      runs[target.name].push(run);
    }
  }
  return runs;
}

function uppyRows(runs, connections) {
  const mid = Object.fromEntries(TARGETS.map((target) => [target.name, medianRun(runs[target.name])]));
  return TARGETS.map((target) => {
    const run = mid[target.name];
    const ratio = target.judged
      ? run.rps / mid.start.rps
      : target.name === 'companion'
        ? mid.params.rps / run.rps
        : null;
    const byRound = runs[target.name].map((r) => int(r.rps)).join(', ');
    return makeRow({
      section: 'uppy',
      what: `${target.what}, ${target.where ?? 'S3, SQLite'}, c=${connections}`,
      value: loadValue(run),
      target: target.judged ? `≥ ${UPPY_MIN_RATIO.toFixed(2)} × Chute's start` : '',
      pass: target.judged ? ratio >= UPPY_MIN_RATIO : null,
      ceiling: target.judged ? `Chute's start ${int(mid.start.rps)} req/s` : '',
      ratio,
      notes: loadNotes(run, `${target.note}; median of ${ROUNDS} rounds in turns (${byRound} req/s)`),
      data: { target: target.name, connections, ...run, rounds: runs[target.name] },
    });
  });
}

/** Uppy's multipart creates leave open uploads: aborted, so that an outside bucket can be removed. */
async function abortOpenUploads(s3) {
  for (let page = 0; page < 1000; page++) {
    const listed = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    const uploads = listed.Uploads ?? [];
    if (uploads.length === 0) return;
    await mapLimit(uploads, 32, ({ Key, UploadId }) =>
      s3.client.send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key, UploadId })),
    );
  }
}

/** @param {{ server, s3, cfg, rows: object[] }} ctx server: Chute on S3 storage (s3's bucket), SQLite */
export async function benchUppy({ server, s3, cfg, rows }) {
  await installPeers();
  const companion = await startCompanion(s3);
  try {
    const creator = TARGETS.find((target) => target.name === 'multipart');
    const upload = await answer('multipart', creator.load({ server }, 1));
    const ctx = { server, companion, upload };
    await checkTargets(ctx, s3.bucket);
    for (const connections of cfg.connections) {
      const made = uppyRows(await rounds(ctx, connections, cfg), connections);
      rows.push(...made);
      log(`uppy c=${connections}: ${made.map((row, i) => `${TARGETS[i].name} ${row.ratio ?? '-'}`).join(', ')}`);
    }
  } finally {
    await companion.stop();
    if (companion.output()) log(`uppy: Companion's output:\n${companion.output()}`);
    // a local RGW goes away whole; an outside bucket is emptied and removed after the run
    if (s3.external) await abortOpenUploads(s3).catch((error) => log(`uppy: aborting open uploads: ${error.message}`));
  }
}
