#!/usr/bin/env node
// `npm run bench:admin`: the admin file list (GET /api/admin/files/) with 100,000 files on SQLite.
// Not a test: it prints figures. The target is < 100 ms of server time per page.
//
// A real app (buildApp: migrations, indexes, routes, serialisation, signed URLs) on a temp SQLite
// file; 100,000 files from 200 users are bulk-inserted in one transaction straight into the
// database; then each request is sent through app.inject, so the time measured is the server's
// own (routing, auth, queries, serialisation) with no network in between. Each scenario runs
// BENCH_ADMIN_RUNS times (default 15) after 2 warm-ups; median, p95 and max are printed, and
// the CPU time the process spent per request, which moves least with neighbours on a shared
// machine.
//
//   BENCH_ADMIN_ROWS=100000   rows to insert
//   BENCH_ADMIN_RUNS=15       timed requests per scenario
//   BENCH_ADMIN_JSON=path     also write the figures as JSON there
//   BENCH_ADMIN_DB=path       keep the SQLite database there (filled once, reused by later runs)
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/http/app.ts';
import { userCreate } from '../src/users/services.ts';

const ROWS = Number(process.env.BENCH_ADMIN_ROWS ?? 100_000);
const RUNS = Number(process.env.BENCH_ADMIN_RUNS ?? 15);
const TARGET_MS = 100;
const USERS = 200;

const dir = mkdtempSync(join(tmpdir(), 'chute-bench-admin-'));
const dbPath = process.env.BENCH_ADMIN_DB ?? join(dir, 'chute.sqlite');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const reuse = process.env.BENCH_ADMIN_DB !== undefined && existsSync(dbPath);

const config = loadConfig({
  DATABASE_URL: `sqlite:${dbPath}`,
  MEDIA_ROOT: join(dir, 'media'),
  APP_DOMAIN: 'http://localhost:8000',
  LOG_LEVEL: 'silent',
  SERVE_WEB_APP: 'false',
  SECRET_KEY: 'bench-secret-bench-secret-bench-secret',
});

// ---------- the data ----------

const app = await buildApp({ config }); // runs the migrations, indexes included
await app.ready();
const staff = reuse
  ? await app.chute.db
      .selectFrom('chute_users')
      .select('id')
      .where('email', '=', 'bench-staff@example.com')
      .executeTakeFirstOrThrow()
  : await userCreate(app.chute.db, { email: 'bench-staff@example.com', password: 'bench password', isStaff: true });
const login = await app.inject({
  method: 'POST',
  url: '/api/auth/login/',
  payload: { email: 'bench-staff@example.com', password: 'bench password' },
});
const headers = { authorization: `Bearer ${login.json().session}` };

const WORDS = [
  'report',
  'invoice',
  'photo',
  'holiday',
  'contract',
  'draft',
  'final',
  'budget',
  'scan',
  'notes',
  'slides',
  'backup',
  'logo',
  'résumé',
  'minutes',
  'plan',
  'summary',
  'data',
  'export',
  'archive',
];
const EXTS = [
  ['pdf', 'application/pdf'],
  ['jpg', 'image/jpeg'],
  ['png', 'image/png'],
  ['txt', 'text/plain'],
  ['csv', 'text/csv'],
  ['zip', 'application/zip'],
  ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['mp4', 'video/mp4'],
];

// a fixed pseudo-random sequence, so every run inserts the same rows
let seed = 42; // mulberry32
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const pick = (list) => list[Math.floor(random() * list.length)];

/** 199 more users and ROWS files, in two transactions straight into the database file. */
function fill(userIds) {
  const sqlite = new SQLite(dbPath);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = OFF');
  const insertUser = sqlite.prepare(
    'INSERT INTO chute_users (email, password_hash, is_staff, is_active, created_at) VALUES (?, ?, 0, 1, ?)',
  );
  const insertFile =
    sqlite.prepare(`INSERT INTO chute_files (file, original_file_name, file_name, file_type, file_size, uploaded_by,
    upload_finished_at, upload_received_at, upload_method, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  sqlite.transaction(() => {
    for (let i = 0; i < USERS - 1; i++) {
      const created = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
      userIds.push(
        Number(insertUser.run(`user${String(i).padStart(3, '0')}@example.com`, 'scrypt$x', created).lastInsertRowid),
      );
    }
  })();
  const start = Date.UTC(2025, 0, 1);
  const span = 365 * 24 * 3600 * 1000;
  sqlite.transaction(() => {
    for (let i = 0; i < ROWS; i++) {
      const [ext, type] = pick(EXTS);
      const original = `${pick(WORDS)} ${pick(WORDS)} ${Math.floor(random() * 10_000)}.${ext}`;
      const generated = `${createHash('md5').update(`file ${i}`).digest('hex')}.${ext}`; // 32 hex digits, like Chute's uuid4 names
      const created = new Date(start + Math.floor((i / ROWS) * span) + Math.floor(random() * 60_000));
      const pending = random() < 0.1;
      const finished = pending ? null : new Date(created.getTime() + Math.floor(random() * 120_000)).toISOString();
      const uploader = random() < 0.01 ? null : pick(userIds); // a few files lost their uploader
      const size = pending ? null : Math.floor(random() * 50 * 2 ** 20) + 1;
      insertFile.run(
        `files/${generated}`,
        original,
        generated,
        type,
        size,
        uploader === null ? null : String(uploader), // uploaders are recorded as text
        finished,
        finished,
        pending ? 'post' : 'standard',
        pending ? 'pending' : 'valid',
        created.toISOString(),
        created.toISOString(),
      );
    }
  })();
  sqlite.close();
}

const fillStarted = performance.now();
const userIds = [staff.id];
if (reuse) {
  const sqlite = new SQLite(dbPath, { readonly: true });
  userIds.push(
    ...sqlite.prepare("SELECT id FROM chute_users WHERE email <> 'bench-staff@example.com' ORDER BY id").pluck().all(),
  );
  sqlite.close();
} else {
  fill(userIds);
}
const fillMs = performance.now() - fillStarted;

// ---------- the measurements ----------

const someUser = userIds[17];
// 8 hex digits of one file's generated name, as staff would paste from a URL
const fragment = (() => {
  const sqlite = new SQLite(dbPath, { readonly: true });
  const name = sqlite
    .prepare('SELECT file_name FROM chute_files ORDER BY id LIMIT 1 OFFSET ?')
    .pluck()
    .get(Math.floor(ROWS / 3));
  sqlite.close();
  return name.slice(10, 18);
})();
const deep = Math.max(0, ROWS - 50);
const scenarios = [
  ['first page (default: id desc)', {}],
  ['page 2', { offset: 50 }],
  ['middle page (offset 50,000)', { offset: Math.floor(ROWS / 2) }],
  [`last page (offset ${deep.toLocaleString('en')})`, { offset: deep }],
  ['200 rows per page', { limit: 200 }],
  ...[
    'original_file_name',
    'file_name',
    'file_type',
    'file_size',
    'uploaded_by',
    'created_at',
    'upload_finished_at',
    'is_valid',
    'id',
  ].flatMap((sort) => [
    [`sort ${sort} asc`, { sort, order: 'asc' }],
    [
      `sort ${sort} desc, offset ${Math.floor(ROWS * 0.9).toLocaleString('en')}`,
      { sort, order: 'desc', offset: Math.floor(ROWS * 0.9) },
    ],
  ]),
  ['search "report" (common)', { search: 'report' }],
  ['search "report", last page of matches', { search: 'report', offset: 9000 }],
  ['search "invoice final 12" (few matches)', { search: 'invoice final 12' }],
  ['search "zzz" (no match)', { search: 'zzz' }],
  ['search generated name fragment', { search: fragment }],
  ['search "photo" sorted by size', { search: 'photo', sort: 'file_size', order: 'desc' }],
  ['status=pending', { status: 'pending' }],
  ['status=pending sorted by created_at asc', { status: 'pending', sort: 'created_at', order: 'asc' }],
  ['status=valid, offset 80,000', { status: 'valid', offset: 80_000 }],
  ['uploaded_by=one user', { uploaded_by: someUser }],
  ['uploaded_by + sort by name', { uploaded_by: someUser, sort: 'original_file_name', order: 'asc' }],
  ['uploaded_by + pending + search', { uploaded_by: someUser, status: 'pending', search: 'report' }],
];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const round = (value) => Math.round(value * 10) / 10;

async function measure(query) {
  const url = `/api/admin/files/?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}`;
  const check = await app.inject({ method: 'GET', url, headers });
  if (check.statusCode !== 200) throw new Error(`${url} -> ${check.statusCode} ${check.body}`);
  const { count, results } = check.json();
  await app.inject({ method: 'GET', url, headers });
  const times = [];
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const response = await app.inject({ method: 'GET', url, headers });
    times.push(performance.now() - started);
    if (response.statusCode !== 200) throw new Error(`${url} -> ${response.statusCode}`);
  }
  const cpu = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  return {
    url,
    count,
    rows: results.length,
    median: round(percentile(times, 50)),
    p95: round(percentile(times, 95)),
    max: round(times.at(-1)),
    cpuPerRequest: round((cpu.user + cpu.system) / 1000 / RUNS),
  };
}

const results = [];
const loadBefore = loadavg()[0];
const wallStarted = performance.now();
const cpuStarted = process.cpuUsage();
for (const [name, query] of scenarios) results.push({ name, ...(await measure(query)) });
const wallMs = performance.now() - wallStarted;
const cpuMs = (() => {
  const used = process.cpuUsage(cpuStarted);
  return (used.user + used.system) / 1000;
})();
await app.close();

// ---------- the report ----------

const pad = (text, width, right = false) => (right ? String(text).padStart(width) : String(text).padEnd(width));
const nameWidth = Math.max(...results.map((r) => r.name.length));
console.log(
  `\nGET /api/admin/files/ with ${ROWS.toLocaleString('en')} files and ${USERS} users on SQLite (better-sqlite3), ${RUNS} timed requests each`,
);
console.log(
  `${reuse ? `reused ${dbPath}` : `bulk insert: ${Math.round(fillMs)} ms`}; machine: ${cpus().length} CPUs, load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after; this process used ${Math.round((cpuMs / wallMs) * 100)}% of one CPU while measuring\n`,
);
console.log(
  `${pad('scenario', nameWidth)}  ${pad('matches', 7, true)}  ${pad('rows', 4, true)}  ${pad('median', 8, true)}  ${pad('p95', 8, true)}  ${pad('max', 8, true)}  ${pad('cpu/req', 8, true)}`,
);
for (const r of results) {
  const flag = r.p95 >= TARGET_MS ? '  > target' : '';
  console.log(
    `${pad(r.name, nameWidth)}  ${pad(r.count, 7, true)}  ${pad(r.rows, 4, true)}  ${pad(`${r.median} ms`, 8, true)}  ${pad(`${r.p95} ms`, 8, true)}  ${pad(`${r.max} ms`, 8, true)}  ${pad(`${r.cpuPerRequest} ms`, 8, true)}${flag}`,
  );
}
const worstMedian = Math.max(...results.map((r) => r.median));
const worstP95 = Math.max(...results.map((r) => r.p95));
const over = results.filter((r) => r.p95 >= TARGET_MS);
console.log(
  `\nworst median ${worstMedian} ms, worst p95 ${worstP95} ms; target < ${TARGET_MS} ms: ${over.length ? `${over.length} scenario(s) over at p95` : 'met by every scenario'}`,
);
if (process.env.BENCH_ADMIN_JSON) {
  writeFileSync(
    process.env.BENCH_ADMIN_JSON,
    JSON.stringify({ rows: ROWS, users: USERS, runs: RUNS, fillMs, results }, null, 2),
  );
}
