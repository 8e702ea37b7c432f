// Test support: a real app on a real database (SQLite by default; PostgreSQL when the run's
// DATABASE_URL is postgres://...) and real storage (a temp folder, or RGW when S3_ENDPOINT is set).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.js';
import type { UploadHooks } from '../src/core/files/hooks.js';
import { buildApp } from '../src/http/app.js';
import { userCreate } from '../src/users/services.js';

type Env = Record<string, string>;
type After = Pick<TestContext, 'after'>;

const cleanupStacks = new WeakMap<After, Array<() => unknown>>();

/**
 * Runs `cleanup` when the test ends, last registered first (node:test runs its own after hooks
 * first registered first): an app is closed before the database and folders it was built on go.
 */
export function defer(t: After, cleanup: () => unknown): void {
  let stack = cleanupStacks.get(t);
  if (!stack) {
    const created: Array<() => unknown> = [];
    cleanupStacks.set(t, created);
    t.after(async () => {
      const failures: unknown[] = [];
      for (const run of created.reverse())
        await Promise.resolve()
          .then(run)
          .catch((error) => failures.push(error));
      if (failures.length === 1) throw failures[0];
      if (failures.length) throw new AggregateError(failures, 'cleanups failed');
    });
    stack = created;
  }
  stack.push(cleanup);
}

const RUN_DATABASE_URL = process.env.DATABASE_URL ?? '';
export const usingPostgres = RUN_DATABASE_URL.startsWith('postgres');

/** A fresh, empty database for one app: a temp SQLite file, or a new PostgreSQL database. */
export async function freshDatabase(t: After): Promise<string> {
  if (!usingPostgres) {
    const dir = await mkdtemp(join(tmpdir(), 'chute-db-'));
    defer(t, () => rm(dir, { recursive: true, force: true }));
    return `sqlite:${join(dir, 'chute.sqlite')}`;
  }
  const name = `chute_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: RUN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  defer(t, async () => {
    const dropper = new pg.Client({ connectionString: RUN_DATABASE_URL });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  });
  const url = new URL(RUN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface S3TestSettings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** The RGW the test run started (scripts/run-tests.mjs) or one given by the environment. */
export function s3Settings(): S3TestSettings {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) {
    throw new Error(
      'S3_ENDPOINT is not set: run the tests with `npm test`, which starts a local RGW, or point S3_ENDPOINT at one.',
    );
  }
  return {
    endpoint,
    accessKeyId: process.env.S3_ACCESS_KEY ?? 'localtest',
    secretAccessKey: process.env.S3_SECRET_KEY ?? 'localtest-secret',
    region: 'us-east-1',
  };
}

/** The environment of a `chute` command (bin/chute.js) on the test RGW and `bucket`. */
export function s3CommandEnv(bucket: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const s3 = s3Settings();
  return {
    ...process.env,
    FILE_UPLOAD_STORAGE: 's3',
    AWS_S3_ENDPOINT_URL: s3.endpoint,
    AWS_S3_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_STORAGE_BUCKET_NAME: bucket,
    ...extra,
  };
}

export function testS3Client(settings = s3Settings()): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A new bucket for one test, emptied and removed after it; CORS for the given origins. */
export async function freshBucket(t: After, { corsOrigins = [] }: { corsOrigins?: string[] } = {}): Promise<string> {
  const client = testS3Client();
  const bucket = `chute-t-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (corsOrigins.length) {
    await client.send(
      new PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: corsOrigins,
              AllowedMethods: ['GET', 'HEAD', 'POST', 'PUT'],
              AllowedHeaders: ['*'],
              ExposeHeaders: ['ETag', 'Location'],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    );
  }
  defer(t, async () => {
    await emptyBucket(client, bucket);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });
  return bucket;
}

export async function listKeys(client: S3Client, bucket: string): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((object) => object.Key!);
}

async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  const keys = await listKeys(client, bucket);
  if (keys.length)
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
}

export interface TestAppOptions {
  storage?: 'local' | 's3';
  /** the upload hooks the app calls */
  hooks?: UploadHooks;
  env?: Env;
  /** origins the test bucket's CORS allows (S3 only) */
  corsOrigins?: string[];
}

/** Environment for a Chute instance with fresh database, media folder and (S3) bucket. */
export async function testEnv(
  t: After,
  { storage = 'local', env = {}, corsOrigins }: TestAppOptions = {},
): Promise<Env> {
  const media = await mkdtemp(join(tmpdir(), 'chute-media-'));
  defer(t, () => rm(media, { recursive: true, force: true }));
  const base: Env = {
    DATABASE_URL: await freshDatabase(t),
    MEDIA_ROOT: media,
    FILE_UPLOAD_STORAGE: storage,
    APP_DOMAIN: 'http://chute.test',
    LOG_LEVEL: 'silent',
  };
  if (storage === 's3') {
    const s3 = s3Settings();
    Object.assign(base, {
      AWS_S3_ENDPOINT_URL: s3.endpoint,
      AWS_S3_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_S3_REGION_NAME: s3.region,
      AWS_STORAGE_BUCKET_NAME:
        env.AWS_STORAGE_BUCKET_NAME ?? (await freshBucket(t, { corsOrigins: corsOrigins ?? [] })),
    });
  }
  return { ...base, ...env };
}

/** fastify/demo's build(t): an app for app.inject, closed when the test ends. */
export async function build(t: After, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const config: Config = loadConfig(await testEnv(t, options));
  const app = await buildApp({ config, ...(options.hooks && { hooks: options.hooks }) });
  defer(t, () => app.close());
  await app.ready();
  return app;
}

export interface TestUser {
  id: number;
  email: string;
  password: string;
  token: string;
  /** Authorization header for app.inject / fetch */
  headers: { authorization: string };
}

let userCounter = 0;

/** A user made through the service, logged in through the API. */
export async function createUser(
  app: FastifyInstance,
  { staff = false, email }: { staff?: boolean; email?: string } = {},
): Promise<TestUser> {
  userCounter += 1;
  const address = email ?? `user${userCounter}-${randomBytes(3).toString('hex')}@example.com`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const user = await userCreate(app.chute.db, { email: address, password, isStaff: staff });
  const login = await app.inject({ method: 'POST', url: '/api/auth/login/', payload: { email: address, password } });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`);
  const token = login.json().session as string;
  return { id: user.id, email: address, password, token, headers: { authorization: `Bearer ${token}` } };
}

/** A multipart body with the given fields first, then `file`, as browsers and the client send it. */
export function multipart(
  file: { name: string; content: Buffer | string; type?: string } | null,
  fields: Record<string, string> = {},
  fileField = 'file',
): { payload: Buffer; headers: { 'content-type': string } } {
  const boundary = `----chute${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${fileField}"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
      ),
      Buffer.isBuffer(file.content) ? file.content : Buffer.from(file.content),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A FormData POST over real HTTP, as a browser does it (used against S3). */
export async function postForm(
  url: string,
  fields: Record<string, string>,
  file: { name: string; content: Buffer; type: string },
): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(file.content)], { type: file.type }), file.name);
  return fetch(url, { method: 'POST', body: form });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestServer {
  app: FastifyInstance;
  baseUrl: string;
  createUser(options?: { staff?: boolean; email?: string }): Promise<TestUser>;
  close(): Promise<void>;
}

/** A listening server on a free port whose APP_DOMAIN is its own address (browser tests). */
export async function startTestServer(t: After, options: TestAppOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = await testEnv(t, {
    ...options,
    corsOrigins: options.corsOrigins ?? [baseUrl],
    env: { APP_DOMAIN: baseUrl, ...options.env },
  });
  const app = await buildApp({ config: loadConfig(env), ...(options.hooks && { hooks: options.hooks }) });
  await app.listen({ host: '127.0.0.1', port });
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await app.close();
    }
  };
  defer(t, close);
  return { app, baseUrl, createUser: (userOptions) => createUser(app, userOptions), close };
}

/** A JSON call over real HTTP as `user`; the body parsed, or null when there is none. */
export async function apiCall(
  server: Pick<TestServer, 'baseUrl'>,
  user: Pick<TestUser, 'headers'>,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { ...user.headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as any };
}

/** The files (not folders) anywhere under a folder, as full paths; none when it is missing. */
export async function filePathsUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (entry.isFile()) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}
