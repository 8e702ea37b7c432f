// A new user's first ten minutes: @chute/server and @chute/client packed as npm publishes them,
// installed with Express into an empty folder, the README's Express snippet (server.js and
// public/index.html, read from packages/server/README.md itself) saved there and started with
// plain `node`, then a file uploaded through that page in Chromium. Also: the shipped type
// declarations typecheck a host's TypeScript.
//
// Slow by nature: npm installs the packages' whole dependency tree, and better-sqlite3 compiles
// from source where its prebuilt binary cannot be downloaded (about two minutes here).
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../helpers.js';
import { launch, ROOT } from './support.js';

const run = promisify(execFile);
const INSTALL_TIMEOUT_MS = 15 * 60_000;

/** The fenced code between `<!-- snippet:NAME -->` and the next `<!-- /snippet -->` of a README. */
function snippet(name: string, readmePath = 'packages/server/README.md'): string {
  const readme = readFileSync(join(ROOT, readmePath), 'utf8');
  const block = readme.split(`<!-- snippet:${name} -->`)[1]?.split('<!-- /snippet -->')[0];
  const code = block?.match(/```\w*\n([\s\S]*?)```/)?.[1];
  assert.ok(code, `${readmePath} has no snippet "${name}"`);
  return code;
}

/** `npm pack` of a workspace package (its prepack builds it) into `into`; the tarball's path. */
async function pack(workspace: string, into: string): Promise<string> {
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', into], {
    cwd: join(ROOT, workspace),
    timeout: 5 * 60_000,
    maxBuffer: 64 * 2 ** 20,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; size: number; entryCount: number }>;
  assert.ok(packed, `npm pack printed nothing for ${workspace}`);
  console.log(`# ${workspace}: ${packed.filename}, ${packed.size} bytes, ${packed.entryCount} files`);
  return join(into, packed.filename);
}

async function waitForServer(url: string, server: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) assert.fail(`node server.js exited with ${server.exitCode}:\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`node server.js did not answer within 60 s:\n${output()}`);
}

describe('the README Express snippet in a fresh folder', { timeout: INSTALL_TIMEOUT_MS + 5 * 60_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'chute-fresh-'));
  const app = join(work, 'app');
  let server: ChildProcess | undefined;
  let output = '';
  let baseUrl = '';

  before(async () => {
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    mkdirSync(join(app, 'public'), { recursive: true });
    const serverTgz = await pack('packages/server', tarballs);
    const clientTgz = await pack('packages/client', tarballs);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }));
    const started = Date.now();
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', 'express@5', '@types/node@20', serverTgz, clientTgz],
      { cwd: app, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 2 ** 20 },
    );
    console.log(`# npm install in the fresh folder: ${Math.round((Date.now() - started) / 1000)} s`);
    writeFileSync(join(app, 'server.js'), snippet('express-server'));
    writeFileSync(join(app, 'public/index.html'), snippet('express-page'));

    const port = await freePort();
    baseUrl = `http://localhost:${port}`;
    server = spawn(process.execPath, ['server.js'], {
      cwd: app,
      env: { PATH: process.env.PATH, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => void (output = (output + chunk).slice(-20_000));
    server.stdout?.on('data', keep);
    server.stderr?.on('data', keep);
    await waitForServer(`${baseUrl}/`, server, () => output);
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  test("the root README shows the same server.js as the package's", () => {
    assert.equal(snippet('express-server', 'README.md'), snippet('express-server'));
  });

  test('a file picked on the page is uploaded, valid and stored byte for byte', async () => {
    const browser = await launch();
    try {
      const content = Buffer.concat([Buffer.from('hello from a fresh folder\n'), randomBytes(64 * 1024)]);
      await browser.page.goto(`${baseUrl}/`);
      await browser.page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: content });
      const result = browser.page.locator('#result');
      await result.filter({ hasText: /^(Uploaded|Failed)/ }).waitFor({ timeout: 30_000 });
      const text = (await result.textContent()) ?? '';
      assert.match(text, /^Uploaded:/, `the page says: ${text}\nserver output:\n${output}`);
      const shown = JSON.parse(text.slice(text.indexOf('\n') + 1)) as { id: number; is_valid: boolean };

      // the record as the API has it (the snippet's stand-in login makes everyone user 1)
      const response = await fetch(`${baseUrl}/uploads/api/files/${shown.id}/`);
      assert.equal(response.status, 200);
      const record = (await response.json()) as { is_valid: boolean; uploaded_by: unknown; url: string };
      assert.equal(record.is_valid, true);
      assert.equal(record.uploaded_by, 1);
      const download = await fetch(record.url);
      assert.equal(download.status, 200);
      assert.ok(Buffer.from(await download.arrayBuffer()).equals(content), 'the stored bytes differ from the file');
      // and the bytes are on the disk where the snippet said
      assert.ok(readdirSync(join(app, 'data/uploads'), { recursive: true }).length > 0);
    } finally {
      await browser.close();
    }
  });

  test('the shipped type declarations typecheck a host app', async () => {
    const host = join(app, 'host.ts');
    writeFileSync(
      host,
      [
        "import { createChute, createChuteHandler, UploadRefusedError, type ChuteOptions } from '@chute/server';",
        "import type { IncomingMessage } from 'node:http';",
        'const options: ChuteOptions<IncomingMessage> = {',
        "  database: 'sqlite:./data/app.sqlite',",
        "  storage: { type: 'local', root: './data/uploads' },",
        "  publicUrl: 'http://localhost:3000/uploads',",
        '  authenticate: async () => ({ id: 1 }),',
        '};',
        'export const handler = createChuteHandler(options);',
        "export const refused = new UploadRefusedError(403, 'quota_exceeded', 'Your quota is used up.');",
        'export async function firstFiles(): Promise<number> {',
        '  const { count } = await createChute(options).files.list({ user: 1 });',
        '  return count;',
        '}',
        // a mistake a host could make: the check must catch it, or the declarations type nothing
        '// @ts-expect-error: storage needs a type',
        "createChuteHandler({ ...options, storage: { root: './x' } });",
      ].join('\n'),
    );
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    const { stdout } = await run(tsc, [...flags, '--target', 'es2023', '--skipLibCheck', host], {
      cwd: app,
      timeout: 120_000,
    }).catch((error: { stdout?: string }) => assert.fail(`tsc found errors:\n${error.stdout}`));
    assert.equal(stdout.trim(), '');
  });
});
