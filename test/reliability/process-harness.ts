// The real server as a child process (`node --import tsx src/server.ts`), so that it can be
// SIGKILLed, restarted, or seen to crash without taking the test runner with it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort, freshDatabase } from '../helpers.js';
import type { After } from './support.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Env = Record<string, string>;

function childEnv(env: Env): NodeJS.ProcessEnv {
  const base = { ...process.env };
  delete base.NODE_TEST_CONTEXT; // the runner's marker: the child is a server, not a test file
  return { ...base, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env };
}

export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns the server and waits until it answers HTTP, or exits, or `readyMs` pass (generous: with
 * the whole suite running on two cores, tsx alone can take half a minute to load the server).
 */
export async function spawnServer(scope: After, env: Env, { readyMs = 120_000 } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  const server: ServerProcess = {
    baseUrl: `http://${env.HOST ?? '127.0.0.1'}:${env.PORT}`,
    child,
    output: () => output,
    exited,
    alive: () => !done,
    async stop(signal = 'SIGTERM') {
      if (!done) child.kill(signal);
      return exited;
    },
  };
  scope.after(() => server.stop('SIGKILL'));
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline) {
    if (done) throw new Error(`the server exited before answering:\n${output}`);
    const answered = await fetch(`${server.baseUrl}/api/auth/me/`).then(
      (r) => r.status,
      () => 0,
    );
    if (answered === 401) return server;
    await sleep(100);
  }
  await server.stop('SIGKILL');
  throw new Error(`the server did not answer within ${readyMs / 1000} s:\n${output}`);
}

export const SECRET = 'reliability-test-signing-secret';

/** A server's environment: its own port, a fresh database and media folder, local storage. */
export async function serverEnv(scope: After, over: Record<string, string> = {}): Promise<Record<string, string>> {
  const media = await mkdtemp(join(tmpdir(), 'chute-media-'));
  scope.after(() => rm(media, { recursive: true, force: true }));
  const port = await freePort();
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_DOMAIN: `http://127.0.0.1:${port}`,
    DATABASE_URL: await freshDatabase(scope),
    MEDIA_ROOT: media,
    FILE_UPLOAD_STORAGE: 'local',
    LOG_LEVEL: 'warn',
    SERVE_WEB_APP: 'false',
    SECRET_KEY: SECRET,
    ...over,
  };
}

/** A request whose body is sent in part and kept open: `end` sends the rest. */
export function openRequest(
  target: string,
  { method, headers, first }: { method: string; headers: Record<string, string>; first: Buffer | string },
) {
  const url = new URL(target);
  const req = request({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers });
  const ended = new Promise<string>((resolve) => {
    req.on('error', (error) => resolve(`error: ${error.message}`));
    req.on('response', (res) => {
      res.resume();
      resolve(`answered ${res.statusCode}`);
    });
  });
  req.write(first);
  return { ended, end: (rest: Buffer | string) => req.end(rest) };
}

/** Sends the start of a multipart upload and keeps the request open: an upload in progress. */
export function openUpload(server: ServerProcess, path: string, headers: Record<string, string>, firstBytes: number) {
  const boundary = 'chute-slow-upload';
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
  const open = openRequest(`${server.baseUrl}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
    first: Buffer.concat([Buffer.from(head), Buffer.alloc(firstBytes, 7)]),
  });
  /** sends `bytes` more of the file and the closing boundary */
  const complete = (bytes: number) =>
    open.end(Buffer.concat([Buffer.alloc(bytes, 7), Buffer.from(`\r\n--${boundary}--\r\n`)]));
  return { ended: open.ended, complete };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== null) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `node bin/chute.js ...` with the given environment. */
export function runCli(env: Env, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['bin/chute.js', ...args],
      { cwd: ROOT, env: childEnv(env), timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`chute ${args[0]} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** Creates a user with the CLI and logs in over HTTP: Authorization headers for fetch. */
export async function cliUser(env: Env, baseUrl: string): Promise<{ authorization: string }> {
  const email = `cli-${Date.now()}-${Math.random().toString(16).slice(2, 8)}@example.com`;
  const password = 'correct-horse-battery';
  await runCli(env, ['users:create', '--email', email, '--password', password]);
  const login = await fetch(`${baseUrl}/api/auth/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  return { authorization: `Bearer ${((await login.json()) as { session: string }).session}` };
}

export async function api(
  server: ServerProcess,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* checked by the caller through status and code */
  }
  return { status: response.status, json, text };
}

/** A TCP forwarder that can refuse new connections and cut the open ones: a network fault. */
export class Cable {
  readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async plugIn(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) =>
      server.once('error', reject).listen(this.port, '127.0.0.1', () => resolve()),
    );
    this.server = server;
  }

  /** new connections are refused (nothing listens); open ones stay unless cut */
  async unplug(): Promise<void> {
    // close() stops listening at once; its callback would wait for the open connections
    this.server?.close();
    this.server = null;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
