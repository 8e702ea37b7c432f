// Starts Chute the way a user does: `node --import tsx src/server.ts` with its settings in the
// environment, a user made with the CLI (`node bin/chute.js users:create`), then a login.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, log, sleep } from './lib.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The Chute checkout that is measured: this one, or BENCH_APP_DIR (e.g. an export of another commit). */
export const APP_DIR = process.env.BENCH_APP_DIR ? resolve(process.env.BENCH_APP_DIR) : ROOT;
const run = promisify(execFile);

/** Which code a checkout holds: its commit and how many files differ from it (null outside git). */
export async function appVersion(appDir = APP_DIR) {
  try {
    const { stdout: commit } = await run('git', ['-C', appDir, 'rev-parse', '--short', 'HEAD'], { timeout: 10_000 });
    const { stdout: status } = await run(
      'git',
      ['-C', appDir, 'status', '--porcelain', '--', 'src', 'bin', 'package.json'],
      { timeout: 10_000 },
    );
    return { dir: appDir, commit: commit.trim(), changedFiles: status.split('\n').filter(Boolean).length };
  } catch {
    return { dir: appDir, commit: null, changedFiles: null };
  }
}

/** Every server process still running, so that a watchdog or a signal can end them. */
const running = new Set();
export function killServers() {
  for (const child of running) child.kill('SIGKILL');
}

// Settings the server reads: never inherited from the shell that runs the bench, always set here.
const OWN_VARIABLES =
  /^(PORT|HOST|APP_DOMAIN|DATABASE_URL|MEDIA_ROOT|LOG_LEVEL|FILE_.*|AWS_.*|SECRET_KEY|CORS_ALLOWED_ORIGINS|SESSION_TTL|.*RATE_LIMIT.*|SERVE_WEB_APP)$/;

function baseEnv() {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !OWN_VARIABLES.test(name)));
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  return env;
}

/** A fresh PostgreSQL database next to the one `adminUrl` names; drop() removes it. */
export async function createPgDatabase(adminUrl) {
  const name = `chute_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

/**
 * @param {{ storage: 'local'|'s3', databaseUrl?: string, s3?: {endpoint, accessKeyId, secretAccessKey, bucket},
 *   cpuProfDir?: string, label: string, env?: object, appDir?: string,
 *   beforeStart?: (db: {databaseUrl: string, email: string}) => Promise<void> }} options appDir: the checkout
 *   to run (default APP_DIR); beforeStart: runs on the migrated database, its user made, before the server
 *   opens it (e.g. to seed rows)
 */
export async function startChute({
  storage,
  databaseUrl,
  s3,
  cpuProfDir,
  label,
  env: extraEnv = {},
  appDir = APP_DIR,
  beforeStart,
}) {
  const dir = await mkdtemp(join(tmpdir(), 'chute-bench-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...baseEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_DOMAIN: baseUrl,
    DATABASE_URL: databaseUrl ?? `sqlite:${join(dir, 'chute.sqlite')}`,
    MEDIA_ROOT: join(dir, 'media'),
    LOG_LEVEL: 'warn',
    FILE_MAX_SIZE: '2GiB',
    FILE_UPLOAD_STORAGE: storage,
    // one user makes every request: the per-user start limit (600/min by default) is set to its
    // maximum so that the limiter still runs (its cost is measured) but never refuses
    START_RATE_LIMIT: '1000000',
    // records are started in bulk and uploaded to minutes later (local urls expire like S3's)
    AWS_PRESIGNED_EXPIRY: '3600',
    ...extraEnv,
  };
  if (storage === 's3') {
    Object.assign(env, {
      AWS_S3_ENDPOINT_URL: s3.endpoint,
      AWS_S3_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_S3_REGION_NAME: 'us-east-1',
      AWS_STORAGE_BUCKET_NAME: s3.bucket,
    });
  }

  // the user first, through the CLI (it also applies the migrations)
  const email = `bench-${randomBytes(3).toString('hex')}@example.com`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  try {
    await run(process.execPath, ['bin/chute.js', 'users:create', '--email', email, '--password', password], {
      cwd: appDir,
      env,
      timeout: 60_000,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `users:create failed: ${String(error.stderr || error.message)
        .trim()
        .slice(0, 1500)}`,
    );
  }

  let server;
  try {
    await beforeStart?.({ databaseUrl: env.DATABASE_URL, email });
    server = await spawnServer({
      label,
      script: 'src/server.ts',
      appDir,
      env,
      cpuProfDir,
      baseUrl,
      readyPath: '/api/auth/me/',
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const login = await fetch(`${baseUrl}/api/auth/login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
    const { session } = await login.json();
    return {
      ...server,
      port,
      storage,
      mediaRoot: env.MEDIA_ROOT,
      auth: { authorization: `Bearer ${session}` },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A host app with Chute mounted by `createChuteHandler` at /uploads (bench/express-host.ts, Express 5),
 * on local storage and SQLite; its own auth is a bearer token.
 */
export async function startExpressHost({ cpuProfDir, label }) {
  const dir = await mkdtemp(join(tmpdir(), 'chute-bench-host-'));
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const env = {
    ...baseEnv(),
    PORT: String(port),
    HOST_DATABASE: `sqlite:${join(dir, 'host.sqlite')}`,
    HOST_MEDIA_ROOT: join(dir, 'media'),
    HOST_TOKEN: token,
    // the package in the measured checkout, by path: a checkout without it has no such section
    CHUTE_SERVER_ENTRY: join(APP_DIR, 'packages/server/src/index.ts'),
  };
  const origin = `http://127.0.0.1:${port}`;
  let server;
  try {
    server = await spawnServer({
      label,
      script: join(ROOT, 'bench/express-host.ts'),
      env,
      cpuProfDir,
      baseUrl: origin,
      readyPath: '/ready',
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...server,
    /** the mount point: paths of the file API go after it */
    prefix: '/uploads',
    port,
    storage: 'local',
    mediaRoot: env.HOST_MEDIA_ROOT,
    auth: { authorization: `Bearer ${token}` },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `node --import tsx <script>` in the measured checkout, ready once `readyPath` answers anything
 * (bounded: 60 s); stop() ends it (SIGTERM, then SIGKILL after 30 s).
 */
async function spawnServer({ label, script, env, cpuProfDir, baseUrl, readyPath, appDir = APP_DIR }) {
  const nodeArgs = ['--import', 'tsx'];
  if (cpuProfDir) {
    // one folder per server: node writes a profile per thread (the tsx loader has its own)
    await mkdir(join(cpuProfDir, label), { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', join(cpuProfDir, label));
  }
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: appDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let warnings = 0;
  const keep = (chunk) => {
    const text = String(chunk);
    warnings += (text.match(/"level":(40|50|60)/g) ?? []).length;
    output = (output + text).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  running.add(child);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => running.delete(child));
  let gone = false;
  exited.then(() => (gone = true));

  const stop = async () => {
    if (gone) return;
    child.kill('SIGTERM');
    const result = await Promise.race([exited, sleep(30_000).then(() => null)]);
    if (!result) {
      log(`${label}: server did not stop within 30 s; killing it`);
      child.kill('SIGKILL');
      await exited;
    }
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone) throw new Error(`the server exited during start:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the server did not answer within 60 s:\n${output}`);
    }
    const answered = await fetch(`${baseUrl}${readyPath}`).then(
      (r) => r.arrayBuffer(),
      () => null,
    );
    if (answered) break;
    await sleep(100);
  }
  return {
    /** ms from spawn to the first answer: what a CPU profile spends loading modules */
    readyAfterMs: Math.round(performance.now() - spawnedAt),
    label,
    baseUrl,
    pid: child.pid,
    /** warn/error lines the server logged so far */
    warnings: () => warnings,
    output: () => output,
    stop,
  };
}

/** JSON POST with the session; throws on an unexpected status. */
export async function apiPost(server, path, body, expect = 200) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.auth },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`POST ${path}: ${response.status} ${text}`);
  return JSON.parse(text);
}
