// Shared by the reliability tests: the context a bad-input case runs in, multipart bodies built
// byte by byte (so they can be wrong on purpose), the check every error answer must pass, and
// snapshots of what a refused request must not change (rows, media folder, bucket).
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { insertSession } from '../../src/users/repository.js';
import { hashToken, userSetActive } from '../../src/users/services.js';
import { createUser, defer, listKeys, type TestAppOptions, testEnv, testS3Client, type TestUser } from '../helpers.js';

export const START = '/api/files/upload/direct/start/';
export const FINISH = '/api/files/upload/direct/finish/';
export const STANDARD = '/api/files/upload/standard/';
export const localUrl = (id: number | string) => `/api/files/upload/direct/local/${id}/`;
export const JSON_CT = { 'content-type': 'application/json' } as const;

/** Small limits so "too large" is cheap; rate limits out of the way of a few hundred requests. */
export const CORPUS_ENV = {
  FILE_MAX_SIZE: '1000',
  LOGIN_RATE_LIMIT_PER_IP: '1000000',
  LOGIN_RATE_LIMIT_PER_EMAIL: '1000000',
  START_RATE_LIMIT: '1000000',
};
export const MAX_SIZE = 1000;

export type After = Pick<TestContext, 'after'>;

/**
 * An `after` whose hooks run last-added first, in one hook of the test. node:test runs a test's
 * own after-hooks in the order they were added, so helpers.build() drops a PostgreSQL database
 * WITH (FORCE) under the app's still-open pool (which crashed the test process until B9 was fixed).
 */
export function lifo(t: After): After {
  const hooks: Array<() => unknown> = [];
  defer(t, async () => {
    for (const hook of hooks.reverse()) await hook();
  });
  return { after: (hook: () => unknown) => void hooks.push(hook) } as unknown as After;
}

/** helpers.build(), except that the app is closed before its database and folders go. */
export async function buildApp2(t: After, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const scope = lifo(t);
  const app = await buildApp({ config: loadConfig(await testEnv(scope, options)) });
  scope.after(() => app.close());
  await app.ready();
  return app;
}

export interface Ctx {
  app: FastifyInstance;
  alice: TestUser;
  bob: TestUser;
  /** `sessionid=<carol's live session>`: cookie credentials, which need the CSRF check */
  cookie: string;
  tokens: { unknown: string; expired: string; loggedOut: string; inactive: string; spare: string };
  /** alice's direct upload, started, never uploaded */
  alicePending: number;
  bobPending: number;
  /** alice's file whose bytes were received and finished (local storage only) */
  aliceReceived: number | null;
  /** `expires=..&signature=..` for a media key, signed by the app's own secret (local only) */
  signedQuery(key: string, expiresIn?: number): Promise<string>;
}

export async function setupCtx(app: FastifyInstance): Promise<Ctx> {
  const db = app.chute.db;
  const [alice, bob, carol, dave, erin, frank] = [
    await createUser(app),
    await createUser(app),
    await createUser(app),
    await createUser(app),
    await createUser(app),
    await createUser(app),
  ];
  const expired = randomBytes(32).toString('base64url');
  await insertSession(db, {
    tokenHash: hashToken(expired),
    userId: alice.id,
    expiresAt: new Date(Date.now() - 60_000),
  });
  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout/', headers: dave.headers });
  if (logout.statusCode !== 200) throw new Error(`logout failed: ${logout.body}`);
  await userSetActive(db, { userId: erin.id, isActive: false });
  // a session that is live but belongs to a deactivated user
  const inactive = randomBytes(32).toString('base64url');
  await insertSession(db, {
    tokenHash: hashToken(inactive),
    userId: erin.id,
    expiresAt: new Date(Date.now() + 3_600_000),
  });

  const start = async (user: TestUser, name: string): Promise<number> => {
    const response = await app.inject({
      method: 'POST',
      url: START,
      headers: user.headers,
      payload: { file_name: name, file_type: 'text/plain' },
    });
    if (response.statusCode !== 200) throw new Error(`start failed: ${response.body}`);
    return response.json().id as number;
  };
  const alicePending = await start(alice, 'pending.txt');
  const bobPending = await start(bob, 'bob.txt');
  let aliceReceived: number | null = null;
  if (app.chute.storage.kind === 'local') {
    aliceReceived = await start(alice, 'received.txt');
    const body = form([FILE]);
    const upload = await app.inject({
      method: 'POST',
      url: localUrl(aliceReceived),
      headers: { ...alice.headers, ...body.headers },
      payload: body.payload,
    });
    const finish = await app.inject({
      method: 'POST',
      url: FINISH,
      headers: alice.headers,
      payload: { file_id: aliceReceived },
    });
    if (upload.statusCode !== 200 || finish.statusCode !== 200)
      throw new Error(`setup upload failed: ${upload.body} ${finish.body}`);
  }
  return {
    app,
    alice,
    bob,
    cookie: `sessionid=${carol.token}`,
    tokens: {
      unknown: randomBytes(32).toString('base64url'),
      expired,
      loggedOut: dave.token,
      inactive,
      spare: frank.token,
    },
    alicePending,
    bobPending,
    aliceReceived,
    async signedQuery(key, expiresIn = 600) {
      const url = await app.chute.storage.downloadUrl({ key, fileName: 'x', contentType: 'text/plain', expiresIn });
      return new URL(url).search.slice(1);
    },
  };
}

// ---------- multipart bodies, right or wrong ----------

export interface Part {
  /** field name; default "file" */
  name?: string;
  /** omitted: a plain field, not a file */
  filename?: string;
  type?: string;
  content?: string | Buffer;
  /** replaces the whole Content-Disposition line */
  disposition?: string;
}

export const FILE: Part = { filename: 'a.txt', type: 'text/plain', content: 'hello' };

export function form(
  parts: Part[],
  {
    boundary = 'chute-reliability-7d1f',
    close = true,
    contentType,
  }: { boundary?: string; close?: boolean; contentType?: string } = {},
): { headers: Record<string, string>; payload: Buffer } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition =
      part.disposition ??
      `Content-Disposition: form-data; name="${part.name ?? 'file'}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    const head = [`--${boundary}`, disposition, ...(part.type ? [`Content-Type: ${part.type}`] : [])].join('\r\n');
    chunks.push(
      Buffer.from(`${head}\r\n\r\n`),
      Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content ?? ''),
      Buffer.from('\r\n'),
    );
  }
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    headers: { 'content-type': contentType ?? `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat(chunks),
  };
}

// ---------- cases and the check every refusal must pass ----------

export type Area =
  | 'login'
  | 'logout'
  | 'me'
  | 'start'
  | 'local'
  | 'finish'
  | 'standard'
  | 'list'
  | 'get'
  | 'delete'
  | 'media'
  | 'route';

export interface Case {
  area: Area;
  name: string;
  req: (ctx: Ctx) => InjectOptions | Promise<InjectOptions>;
  /** the status the contract gives; a list where it allows either */
  status: number | readonly number[];
  code?: string | readonly string[];
  /** a server bug from the report: run apart, as a todo test, until fixed */
  bug?: string;
  /** a server bug with S3 storage only: the S3 run takes the case apart, as a todo test */
  s3Bug?: string;
}

interface ErrorBody {
  code: string;
  message: string;
}

const isErrorBody = (body: unknown): body is ErrorBody =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as ErrorBody).code === 'string' &&
  typeof (body as ErrorBody).message === 'string';

/** generous: the whole suite shares two cores */
const CASE_TIMEOUT_MS = 20_000;

/** null when the answer is the expected clean refusal, else what is wrong with it. */
export async function check(ctx: Ctx, c: Case): Promise<string | null> {
  const request = ctx.app.inject(await c.req(ctx));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), CASE_TIMEOUT_MS)));
  const response = await Promise.race([request, timeout]).finally(() => clearTimeout(timer));
  if (response === null) return `no answer within ${CASE_TIMEOUT_MS / 1000} s: the request hangs`;
  const seen = `${response.statusCode} ${response.body.slice(0, 200)}`;
  const statuses = ([] as number[]).concat(c.status);
  if (response.statusCode >= 500) return `server error: ${seen}`;
  if (!statuses.includes(response.statusCode)) return `expected ${statuses.join('|')}, got ${seen}`;
  if (!String(response.headers['content-type']).startsWith('application/json'))
    return `not JSON (${response.headers['content-type']}): ${seen}`;
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return `unparsable body: ${seen}`;
  }
  if (!isErrorBody(body)) return `no string code and message: ${seen}`;
  const codes = c.code === undefined ? [] : ([] as string[]).concat(c.code);
  if (codes.length && !codes.includes(body.code)) return `expected code ${codes.join('|')}, got ${seen}`;
  return null;
}

export async function runCases(ctx: Ctx, cases: readonly Case[]): Promise<string[]> {
  const failures: string[] = [];
  for (const c of cases) {
    const problem = await check(ctx, c);
    if (problem) failures.push(`[${c.area}] ${c.name}${c.bug ? ` (${c.bug})` : ''}: ${problem}`);
  }
  return failures;
}

// ---------- what a refused request must leave as it was ----------

/** Every file row but updated_at (a released upload claim touches it and nothing else). */
export async function fileRows(app: FastifyInstance): Promise<string[]> {
  const rows = await app.chute.db
    .selectFrom('chute_files')
    .select([
      'id',
      'file',
      'original_file_name',
      'file_type',
      'file_size',
      'uploaded_by',
      'upload_finished_at',
      'upload_received_at',
    ])
    .orderBy('id')
    .execute();
  return rows.map((row) => JSON.stringify(row));
}

/** Files (not folders) under a folder, with sizes, relative to it. */
export async function filesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else found.push(`${relative(root, path)} ${(await stat(path).catch(() => null))?.size ?? '?'}`);
    }
  };
  await walk(root);
  return found.sort();
}

export async function bucketKeys(app: FastifyInstance): Promise<string[]> {
  const bucket = app.chute.config.s3?.bucket;
  if (!bucket) return [];
  const client = testS3Client();
  try {
    return (await listKeys(client, bucket)).sort();
  } finally {
    client.destroy();
  }
}

export async function snapshot(app: FastifyInstance): Promise<{ rows: string[]; media: string[]; bucket: string[] }> {
  return {
    rows: await fileRows(app),
    media: await filesUnder(app.chute.config.mediaRoot),
    bucket: await bucketKeys(app),
  };
}
