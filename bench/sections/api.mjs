// Section "start" and "finish": throughput and latency of the two JSON endpoints of a direct
// upload, at 10 and 100 connections, on local storage and on S3.
//
// finish is measured on distinct, uploaded, not yet finished records (one request per record: the
// real work, HeadObject / stat + UPDATE + SELECT), then again on the same records, which are now
// finished: that second figure is the early-return path and is reported on its own row.
import { describeLoad, idPool, runLoad, warmUp } from '../load.mjs';
import { log } from '../lib.mjs';
import { multipartBody } from '../http.mjs';
import { headRate, putObjects } from '../s3.mjs';
import { int, loadNotes, loadValue, makeRow, ms } from '../report.mjs';

export const START = '/api/files/upload/direct/start/';
const FINISH = '/api/files/upload/direct/finish/';
const FILE_TYPE = 'image/jpeg';
export const START_BODY = JSON.stringify({ file_name: 'photo.jpg', file_type: FILE_TYPE });
/**
 * A file that starts as a JPEG does, so finish's content check detects a type, and is larger than
 * the 4 KiB the check reads, as a real photo is (a storage's answer to the check then holds only a
 * part of the object).
 */
const PHOTO_KIB = 16;
const PHOTO = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]),
  Buffer.alloc(PHOTO_KIB * 1024 - 11, 'x'),
]);

/** issue 15: start on SQLite (the default) and on PostgreSQL on the same machine */
export const START_TARGETS = { SQLite: { rps: 4000, p99: 10 }, PostgreSQL: { rps: 2500, p99: 20 } };

export const jsonHeaders = (server) => ({ 'content-type': 'application/json', ...server.auth });

/** runLoad's options for start on `server` (at its mount prefix, when embedded). */
export const startLoad = (server, connections) => ({
  url: server.baseUrl,
  pid: server.pid,
  connections,
  path: `${server.prefix ?? ''}${START}`,
  headers: jsonHeaders(server),
  body: START_BODY,
});

/** `n` pending records made through start; returns [{id, key}]. */
export async function collectStarts(server, n) {
  const started = [];
  await runLoad({
    url: server.baseUrl,
    pid: server.pid,
    connections: 20,
    amount: n,
    requests: [
      {
        method: 'POST',
        path: START,
        headers: jsonHeaders(server),
        body: START_BODY,
        onResponse: (status, body) => {
          if (status !== 200) return;
          const parsed = JSON.parse(body);
          started.push({ id: parsed.id, key: parsed.fields?.key ?? null });
        },
      },
    ],
  });
  if (started.length !== n) throw new Error(`start made ${started.length} of ${n} records`);
  return started;
}

/** The bytes of each local record, sent through the API as a browser would (PHOTO each). */
export async function uploadLocal(server, ids, connections) {
  const pool = idPool(ids);
  const { body, contentType } = multipartBody(PHOTO, { fileName: 'photo.jpg', fileType: FILE_TYPE });
  const run = await runLoad({
    url: server.baseUrl,
    pid: server.pid,
    connections,
    amount: ids.length,
    requests: [
      {
        method: 'POST',
        headers: { ...server.auth, 'content-type': contentType },
        body,
        setupRequest: (request) => ({ ...request, path: `/api/files/upload/direct/local/${pool.take()}/` }),
      },
    ],
  });
  if (run.ok !== ids.length || pool.repeats)
    throw new Error(`local uploads: ${run.ok} of ${ids.length} OK ${JSON.stringify(run.statuses)} ${run.errorSamples}`);
  return run;
}

export function finishRequests(server, nextId) {
  return [
    {
      method: 'POST',
      path: FINISH,
      headers: jsonHeaders(server),
      setupRequest: (request) => ({ ...request, body: JSON.stringify({ file_id: nextId() }) }),
    },
  ];
}

/** `count` started records on a local-storage `server`, their bytes uploaded, not finished: their ids. */
export async function prepareFinishes(server, count, connections) {
  const ids = (await collectStarts(server, count)).map((s) => s.id);
  await uploadLocal(server, ids, connections);
  return ids;
}

/** One finish per id, `connections` at a time. */
export function finishRound(server, connections, ids) {
  const pool = idPool(ids);
  return runLoad({
    url: server.baseUrl,
    pid: server.pid,
    connections,
    amount: ids.length,
    maxSeconds: 120,
    requests: finishRequests(server, () => pool.take()),
  });
}

/**
 * @param {{ server, mode: 'local'|'s3', dbName: string, s3?, cfg, ceilings: Record<number, number>, rows: object[], verifyContent?: boolean }} ctx
 * verifyContent: false when the server runs with FILE_VERIFY_CONTENT=false (finish reads no bytes)
 */
export async function benchStartFinish({ server, mode, dbName, s3, cfg, ceilings, rows, only, verifyContent = true }) {
  const label = `${mode}, ${dbName}${verifyContent ? '' : ', FILE_VERIFY_CONTENT=false'}`;
  const base = { url: server.baseUrl, pid: server.pid };
  const ceilingText = (c) => (ceilings[c] ? `bare node http ${int(ceilings[c])} req/s` : '');

  if (only.has('start')) {
    for (const connections of cfg.connections) {
      const options = { ...base, connections, path: START, headers: jsonHeaders(server), body: START_BODY };
      await warmUp(options, cfg.warmupSeconds);
      const run = await runLoad({ ...options, duration: cfg.loadSeconds });
      describeLoad(`start (${label})`, run);
      const target = START_TARGETS[dbName];
      const rpsOk = run.rps >= target.rps;
      const p99Ok = run.latencyMs.p99 !== null && run.latencyMs.p99 <= target.p99;
      rows.push(
        makeRow({
          section: 'start',
          what: `start, ${label}, c=${connections}`,
          value: loadValue(run),
          target: `≥ ${int(target.rps)} req/s at p99 ≤ ${target.p99} ms`,
          pass: rpsOk && p99Ok && run.bad === 0 && run.errors === 0,
          ceiling: ceilingText(connections),
          ratio: ceilings[connections] ? run.rps / ceilings[connections] : null,
          notes: loadNotes(
            run,
            rpsOk && !p99Ok ? 'throughput met, p99 missed' : !rpsOk && p99Ok ? 'p99 met, throughput missed' : '',
          ),
          data: { mode, db: dbName, ...run },
        }),
      );
    }
  }

  if (!only.has('finish')) return;
  const n = mode === 'local' ? cfg.finishLocalN : cfg.finishS3N;
  for (const [index, connections] of cfg.connections.entries()) {
    const warm = index === 0 ? Math.max(20, Math.round(n / 10)) : 0;
    log(`finish (${label}) c=${connections}: preparing ${n + warm} uploaded, unfinished records`);
    const started = await collectStarts(server, n + warm);
    let prepNote;
    if (mode === 'local') {
      const upload = await uploadLocal(
        server,
        started.map((s) => s.id),
        connections,
      );
      describeLoad(`direct upload ${PHOTO_KIB} KiB (${label})`, upload);
      rows.push(
        makeRow({
          section: 'finish',
          what: `direct upload of ${PHOTO_KIB} KiB, ${label}, c=${connections} (preparation for finish)`,
          value: loadValue(upload),
          notes: loadNotes(upload),
          data: { mode, db: dbName, ...upload },
        }),
      );
      prepNote = 'records uploaded through the API';
    } else {
      const seconds = await putObjects(
        s3,
        started.map((s) => ({ key: s.key, type: FILE_TYPE })),
        { body: PHOTO },
      );
      prepNote = `objects PutObject'ed at the keys from start (${Math.round(started.length / seconds)}/s)`;
    }
    const ids = started.map((s) => s.id);
    const warmPool = idPool(ids.slice(n));
    if (warm) {
      await runLoad({ ...base, connections, amount: warm, requests: finishRequests(server, () => warmPool.take()) });
    }
    const pool = idPool(ids.slice(0, n));
    const run = await runLoad({
      ...base,
      connections,
      amount: n,
      maxSeconds: 300,
      requests: finishRequests(server, () => pool.take()),
    });
    describeLoad(`finish distinct (${label})`, run);

    let ceiling = ceilingText(connections);
    let ratio = ceilings[connections] ? run.rps / ceilings[connections] : null;
    let head = null;
    if (mode === 's3') {
      head = await headRate(
        s3,
        started.map((s) => s.key),
        { connections, seconds: cfg.headSeconds },
      );
      ceiling = `RGW HeadObject from the bench ${int(head.rps)} req/s (p99 ${ms(head.latencyMs.p99)}; bench CPU ${Math.round(head.benchCpu * 100)}% = ${int(head.cpuUsPerCall)} µs/call in the SDK)`;
      ratio = run.rps / head.rps;
      log(`S3 HeadObject ceiling c=${connections}: ${head.rps}/s p99 ${head.latencyMs.p99} ms`);
    }
    rows.push(
      makeRow({
        section: 'finish',
        what: `finish, ${label}, c=${connections}, ${int(n)} distinct unfinished ids`,
        value: loadValue(run),
        ceiling,
        ratio,
        notes: loadNotes(run, pool.repeats ? `${pool.repeats} ids reused` : prepNote),
        data: { mode, db: dbName, connections, ...run, headCeiling: head },
      }),
    );

    // the same records again: each is finished now, so finish returns after one SELECT
    const again = idPool(ids.slice(0, n));
    const repeat = await runLoad({
      ...base,
      connections,
      duration: cfg.repeatSeconds,
      requests: finishRequests(server, () => again.cycle()),
    });
    describeLoad(`finish repeat (${label})`, repeat);
    rows.push(
      makeRow({
        section: 'finish',
        what: `finish repeated on already finished ids (early return), ${label}, c=${connections}`,
        value: loadValue(repeat),
        ceiling: ceilingText(connections),
        ratio: ceilings[connections] ? repeat.rps / ceilings[connections] : null,
        notes: loadNotes(repeat, 'not the real finish work: no storage check, no UPDATE'),
        data: { mode, db: dbName, ...repeat },
      }),
    );
  }
}

/** The ceiling of a JSON POST on this machine with this load generator: bare node http (bench/sink.mjs). */
export async function measureCeilings(sink, cfg) {
  const ceilings = {};
  for (const connections of cfg.connections) {
    const options = {
      url: sink.url,
      pid: sink.pid,
      connections,
      path: START,
      headers: { 'content-type': 'application/json' },
      body: START_BODY,
    };
    await warmUp(options, cfg.warmupSeconds);
    const run = await runLoad({ ...options, duration: cfg.loadSeconds });
    describeLoad('ceiling: bare node http', run);
    ceilings[connections] = run.rps;
    ceilings[`p99_${connections}`] = run.latencyMs.p99;
  }
  return ceilings;
}
