// End-to-end: Uppy's Dashboard + @uppy/aws-s3 5.x (the page in ./uppy-page, bundled with esbuild
// and served from its own origin) uploading to a real Chute through `/api/uppy`, in Debian's
// Chromium through playwright-core. Runs for local storage and for S3 (the RGW that
// `npm run test:browser` starts, or any S3_ENDPOINT).
//
//   npm run test:browser -- test/browser/uppy.browser.test.ts
//   node --import tsx --test test/browser/uppy.browser.test.ts     (local only unless S3_ENDPOINT is set)
//
// A 200 KB file goes up by one signed PUT (GET /s3/params), a 101 MiB file by multipart (it is
// over shouldUseMultipart's 100 MiB, Uppy's default threshold). Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { startTestServer, type TestServer, type TestUser } from '../helpers.js';
import { serveUppyPage, type UppyPage } from './uppy-page/build.js';
import type { UppyEvent } from './uppy-page/main.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const MiB = 1024 * 1024;
const MULTIPART_ABOVE = 100 * MiB; // what the page passes to shouldUseMultipart (Uppy's own default)
const UPPY_PART_SIZE = 5 * MiB; // Uppy's chunk size for files under 50 GB

mkdirSync(ARTIFACTS, { recursive: true });
for (const old of readdirSync(ARTIFACTS)) if (/^uppy-.*\.png$/.test(old)) rmSync(join(ARTIFACTS, old));
const FILES_DIR = mkdtempSync(join(tmpdir(), 'chute-uppy-files-'));
after(() => rmSync(FILES_DIR, { recursive: true, force: true }));

function fixture(name: string, size: number) {
  const content = randomBytes(size);
  const path = join(FILES_DIR, name);
  writeFileSync(path, content);
  return { name, path, size, sha256: createHash('sha256').update(content).digest('hex') };
}
const SMALL = fixture('small notes 200k.txt', 200 * 1000);
const BIG = fixture('big-101mib.bin', 101 * MiB);
assert.ok(SMALL.size <= MULTIPART_ABOVE && BIG.size > MULTIPART_ABOVE);

// Functions given to page.evaluate run in Chromium; they reach the page's globals through inPage().
declare function inPage(): any;

/** node:test's describe-level after() cannot be added from inside a hook: collect cleanups here. */
function cleanupScope() {
  const cleanups: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as Pick<TestContext, 'after'>;
  return {
    scope,
    run: async () => {
      for (const fn of cleanups.reverse()) await fn();
    },
  };
}

/** One request the page made to Chute or the storage, with what came back. */
interface Exchange {
  method: string;
  url: string;
  status?: number;
  sent?: string;
  answer?: string;
  etag?: string;
  failure?: string;
}
const short = (url: string) => (url.length > 160 ? `${url.slice(0, 160)}…` : url);
const describeExchange = (e: Exchange) =>
  `${e.method} ${short(e.url)} -> ${e.failure ?? e.status ?? 'pending'}${e.sent ? ` sent=${e.sent}` : ''}${e.answer ? ` answer=${e.answer}` : ''}${e.etag ? ` etag=${e.etag}` : ''}`;

/** Records every request the page sends off its own origin, plus console errors and page errors. */
function recordTraffic(page: Page, pageOrigin: string) {
  const exchanges: Exchange[] = [];
  const messages: string[] = [];
  const pending = new Map<unknown, Exchange>();
  page.on('request', (request) => {
    if (request.url().startsWith(pageOrigin)) return;
    const exchange: Exchange = { method: request.method(), url: request.url() };
    if (request.url().includes('/api/uppy/')) exchange.sent = request.postData()?.slice(0, 300) ?? undefined;
    exchanges.push(exchange);
    pending.set(request, exchange);
  });
  page.on('response', async (response) => {
    const exchange = pending.get(response.request());
    if (!exchange) return;
    exchange.status = response.status();
    try {
      if (exchange.url.includes('/api/uppy/')) exchange.answer = (await response.text()).slice(0, 400);
      else exchange.etag = (await response.allHeaders()).etag;
    } catch {
      // the body may be gone already (e.g. the page moved on)
    }
  });
  page.on('requestfailed', (request) => {
    const exchange = pending.get(request);
    if (exchange) exchange.failure = `FAILED ${request.failure()?.errorText}`;
  });
  page.on('console', (message) => {
    if (['error', 'warning'].includes(message.type()))
      messages.push(`console.${message.type()}: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => messages.push(`pageerror: ${error}`));
  const report = () => [...exchanges.map(describeExchange), ...messages].join('\n  ');
  return { exchanges, messages, report };
}

const shots: Record<string, number> = {};
async function screenshot(page: Page, storage: string, name: string) {
  const shot = (shots[storage] = (shots[storage] ?? 0) + 1);
  await page.screenshot({
    path: join(ARTIFACTS, `uppy-${storage}-${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  });
}

const uppyEvents = (page: Page): Promise<UppyEvent[]> => page.evaluate(() => inPage().uppyEvents);

interface ApiFile {
  id: number;
  original_file_name: string;
  file_size: number | null;
  is_valid: boolean;
  url: string | null;
}

async function sha256Of(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  const hash = createHash('sha256');
  const reader = response.body!.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) hash.update(chunk.value);
  return hash.digest('hex');
}

// ---------- once per storage ----------

const S3_SKIP = process.env.S3_ENDPOINT ? false : 'S3_ENDPOINT is not set (`npm run test:browser` starts a local RGW)';

for (const storage of ['local', 's3'] as const) {
  describe(`Uppy Dashboard + @uppy/aws-s3 5.x with ${storage} storage`, {
    skip: storage === 's3' ? S3_SKIP : false,
    timeout: 10 * 60_000,
  }, () => {
    const cleanup = cleanupScope();
    let uppyPage: UppyPage;
    let server: TestServer;
    let user: TestUser;
    let page: Page;
    let traffic: ReturnType<typeof recordTraffic>;
    let closeBrowser: () => Promise<void>;

    before(async () => {
      uppyPage = await serveUppyPage();
      cleanup.scope.after(() => uppyPage.close());
      // the page is on its own origin: Chute's CORS and the bucket's CORS must both allow it
      server = await startTestServer(cleanup.scope, {
        storage,
        corsOrigins: [uppyPage.origin],
        env: { FILE_MAX_SIZE: String(200 * MiB), CORS_ALLOWED_ORIGINS: uppyPage.origin },
      });
      user = await server.createUser();
      const userDataDir = mkdtempSync(join(tmpdir(), 'chute-chromium-'));
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
        viewport: { width: 1000, height: 760 },
      });
      closeBrowser = async () => {
        await context.close();
        rmSync(userDataDir, { recursive: true, force: true });
      };
      // tsx compiles this file with esbuild's keepNames: functions passed to page.evaluate call __name().
      await context.addInitScript({ content: 'globalThis.__name = (fn) => fn; globalThis.inPage = () => globalThis;' });
      page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(30_000);
      traffic = recordTraffic(page, uppyPage.origin);
      await page.goto(`${uppyPage.origin}/`);
      await page.evaluate(
        ({ endpoint, token, multipartAbove }) => void inPage().startUppy({ endpoint, token, multipartAbove }),
        { endpoint: `${server.baseUrl}/api/uppy`, token: user.token, multipartAbove: MULTIPART_ABOVE },
      );
      await page.locator('.uppy-Dashboard').waitFor();
    });

    after(async () => {
      await closeBrowser?.();
      await cleanup.run();
    });

    test('the Dashboard uploads a 200 KB file (signed PUT) and a 101 MiB file (multipart); Uppy reports both successful', async (t) => {
      t.diagnostic(`page bundle: ${(uppyPage.stats.bytes / 1024).toFixed(0)} KiB built in ${uppyPage.stats.ms} ms`);
      await page
        .locator('.uppy-Dashboard input[type="file"]:not([webkitdirectory])')
        .first()
        .setInputFiles([SMALL.path, BIG.path]);
      await page.locator('.uppy-Dashboard-Item').nth(1).waitFor();
      await screenshot(page, storage, 'added');

      const started = performance.now();
      await page.locator('.uppy-StatusBar-actionBtn--upload').click();
      try {
        // a picture mid-way, if the upload is not already over
        await page.waitForFunction(
          (name) =>
            (inPage().uppyProgress[name] ?? 0) >= 0.3 ||
            inPage().uppyEvents.some((e: UppyEvent) => e.type === 'complete'),
          BIG.name,
          { timeout: 180_000, polling: 100 },
        );
        await screenshot(page, storage, 'uploading');
        await page.waitForFunction(() => inPage().uppyEvents.some((e: UppyEvent) => e.type === 'complete'), undefined, {
          timeout: 300_000,
          polling: 200,
        });
      } catch (error) {
        await screenshot(page, storage, 'stuck');
        throw new Error(
          `Uppy did not complete: ${error}\n  events: ${JSON.stringify(await uppyEvents(page))}\n  ${traffic.report()}`,
        );
      }
      const uploadSeconds = (performance.now() - started) / 1000;
      await screenshot(page, storage, 'complete');

      const events = await uppyEvents(page);
      const context = `events: ${JSON.stringify(events)}\n  ${traffic.report()}`;
      const complete = events.find((e) => e.type === 'complete')!;
      assert.deepEqual(complete.failed, [], context);
      assert.deepEqual([...complete.successful!].sort(), [BIG.name, SMALL.name].sort(), context);
      t.diagnostic(
        `${storage}: Uppy uploaded ${SMALL.size + BIG.size} bytes in ${uploadSeconds.toFixed(1)} s (${((SMALL.size + BIG.size) / MiB / uploadSeconds).toFixed(1)} MiB/s)`,
      );
      assert.deepEqual(
        events.filter((e) => ['upload-error', 'error', 'restriction-failed'].includes(e.type)),
        [],
        context,
      );
      const successes = events.filter((e) => e.type === 'upload-success');
      assert.deepEqual(
        successes.map((e) => [e.name, e.size]).sort(),
        [
          [BIG.name, BIG.size],
          [SMALL.name, SMALL.size],
        ].sort(),
        context,
      );
      assert.deepEqual(traffic.messages, [], `no console errors or page errors\n  ${traffic.report()}`);
      // the StatusBar re-renders on a throttled state update, so it may trail the 'complete' event
      const shownComplete = await page
        .locator('.uppy-StatusBar.is-complete')
        .waitFor({ state: 'visible', timeout: 15_000 })
        .then(
          () => true,
          () => false,
        );
      assert.ok(shownComplete, 'the Dashboard shows Complete');

      // what went over the wire: one signed PUT for the small file, parts for the big one, no abort
      const api = (method: string, path: RegExp) =>
        traffic.exchanges.filter(
          (e) =>
            e.method === method &&
            e.url.startsWith(`${server.baseUrl}/api/uppy/s3/`) &&
            path.test(new URL(e.url).pathname),
        );
      const uploads = traffic.exchanges.filter((e) => e.method === 'PUT');
      const parts = Math.ceil(BIG.size / UPPY_PART_SIZE);
      const params = api('GET', /\/s3\/params$/);
      assert.equal(params.length, 1, context);
      assert.equal(new URL(params[0]!.url).searchParams.get('filename'), SMALL.name, context);
      assert.equal(api('POST', /\/s3\/multipart$/).length, 1, context);
      assert.equal(api('GET', /\/s3\/multipart\/[^/]+\/\d+$/).length, parts, context);
      assert.equal(api('POST', /\/s3\/multipart\/[^/]+\/complete$/).length, 1, context);
      assert.equal(api('DELETE', /./).length, 0, context);
      assert.equal(uploads.length, parts + 1, context);
      for (const exchange of [...traffic.exchanges.filter((e) => e.url.includes('/api/uppy/')), ...uploads]) {
        assert.equal(exchange.status, 200, `${describeExchange(exchange)}\n  ${context}`);
      }
      for (const put of uploads) assert.ok(put.etag, `the storage's answer carries an ETag: ${describeExchange(put)}`);
      t.diagnostic(
        `${storage}: ${traffic.exchanges.length} requests to Chute and the storage (${parts} parts of ${UPPY_PART_SIZE / MiB} MiB)`,
      );
    });

    test('both uploads are valid Chute files with the right sizes, and download as the same bytes', async (t) => {
      const response = await fetch(`${server.baseUrl}/api/files/?limit=100&offset=0`, {
        headers: { ...user.headers, accept: 'application/json' },
      });
      assert.equal(response.status, 200);
      const listed = (await response.json()) as { count: number; results: ApiFile[] };
      const summary = JSON.stringify(
        listed.results.map(({ id, original_file_name, file_size, is_valid }) => ({
          id,
          original_file_name,
          file_size,
          is_valid,
        })),
      );
      assert.equal(listed.count, 2, `exactly the two uploads, no leftover records: ${summary}`);
      const events = await uppyEvents(page);
      for (const fixture of [SMALL, BIG]) {
        const file = listed.results.find((f) => f.original_file_name === fixture.name);
        assert.ok(file, `${fixture.name} is listed: ${summary}`);
        assert.equal(file.is_valid, true, `${fixture.name} is valid: ${summary}`);
        assert.equal(file.file_size, fixture.size, `${fixture.name} size: ${summary}`);
        assert.ok(file.url, `${fixture.name} has a download url`);
        if (fixture === BIG) {
          // Uppy's upload-success uploadURL is the location that complete answered
          const success = events.find((e) => e.type === 'upload-success' && e.name === BIG.name);
          assert.equal(success?.uploadURL, `${server.baseUrl}/api/files/${file.id}/`);
        }
        const started = performance.now();
        assert.equal(
          await sha256Of(new URL(file.url, server.baseUrl).toString()),
          fixture.sha256,
          `${fixture.name}: the downloaded bytes match`,
        );
        t.diagnostic(
          `${storage}: downloaded and hashed ${fixture.name} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
      }
    });
  });
}
