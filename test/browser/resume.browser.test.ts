// Chromium, the built web app, a 300 MiB file: it goes up in parts (Content-MD5 per part and the
// file's SHA-256 computed in a Web Worker), pauses and resumes on the buttons, and after the page
// is reloaded mid-way and the same file is chosen again, it continues from the parts already
// uploaded (fewer bytes sent than the file's size) and completes with the right bytes. Once for
// local storage, once for S3 (the RGW that `npm test -- --browser` starts; bucket CORS for the
// page's origin, exposing ETag).
//
//   npm test -- --browser test/browser/resume.browser.test.ts
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium), CHUTE_WEB_BUILT=1 never rebuilds web/dist (by
// default it is rebuilt when older than web/src or packages/client/src).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CDPSession, Page, Request } from 'playwright-core';
import { sha256OfUrl, writeRandomFile } from '../files.js';
import { startTestServer, type TestServer, type TestUser } from '../helpers.js';
import {
  artifactsFor,
  assertAccessible,
  cleanupScope,
  ensureWebBuilt,
  launch,
  S3_SKIP,
  signIn,
  throttleUpload,
} from './support.js';

const MiB = 2 ** 20;
const SIZE = 300 * MiB;
const PART = 8 * MiB;
const NAME = 'big-300mb.bin';
const ROW = `[data-testid="upload-row"][data-name="${NAME}"]`;

// ---------- once per run: a fresh web build, the file ----------

ensureWebBuilt();
const ARTIFACTS = artifactsFor('resume');
const FILES_DIR = mkdtempSync(join(tmpdir(), 'chute-resume-files-'));
const FILE = join(FILES_DIR, NAME);
let FILE_SHA256 = '';
before(async () => {
  FILE_SHA256 = await writeRandomFile(FILE, SIZE);
});
after(() => rmSync(FILES_DIR, { recursive: true, force: true }));

declare function inPage(): any;

async function waitForPercent(page: Page, atLeast: number, timeout = 120_000) {
  await page.waitForFunction(
    ({ selector, atLeast }) =>
      Number(inPage().document.querySelector(`${selector} [role="progressbar"]`)?.getAttribute('aria-valuenow') ?? 0) >=
      atLeast,
    { selector: ROW, atLeast },
    { timeout, polling: 100 },
  );
}

/** The part number of a part PUT: S3's `partNumber=N`, or local storage's `/multipart/local/<upload>/<N>/`. */
function partNumberOf(request: Request): number | null {
  if (request.method() !== 'PUT') return null;
  const url = new URL(request.url());
  const s3 = url.searchParams.get('partNumber');
  const local = /\/api\/files\/upload\/multipart\/local\/[0-9a-f]+\/(\d+)\/$/.exec(url.pathname);
  return s3 ? Number(s3) : local ? Number(local[1]) : null;
}
const partBytes = (partNumber: number) => Math.min(PART, SIZE - (partNumber - 1) * PART);

/** Part PUTs the page completed (2xx), with their Content-MD5, from `since` on. */
function recordPartPuts(page: Page) {
  const done: Array<{ partNumber: number; md5: string | undefined; phase: number }> = [];
  let phase = 0;
  page.on('requestfinished', async (request) => {
    const partNumber = partNumberOf(request);
    if (partNumber === null) return;
    const response = await request.response();
    if (response && response.status() >= 200 && response.status() < 300)
      done.push({ partNumber, md5: request.headers()['content-md5'], phase });
  });
  return {
    done,
    nextPhase: () => ++phase,
    bytes: (of: number) =>
      done.filter((put) => put.phase === of).reduce((sum, put) => sum + partBytes(put.partNumber), 0),
  };
}

/** What the page's localStorage remembers of the upload (the client library's resume entry). */
const resumeEntry = (page: Page): Promise<{ id: number; name: string; size: number } | null> =>
  page.evaluate(() => {
    const storage = inPage().localStorage;
    for (let i = 0; i < storage.length; i++) {
      const key: string = storage.key(i);
      if (key.startsWith('chute-upload|')) return JSON.parse(storage.getItem(key));
    }
    return null;
  });

const listParts = (page: Page, id: number): Promise<Array<{ part_number: number; size: number }>> =>
  page.evaluate(async (fileId) => {
    const response = await fetch(`/api/files/upload/multipart/${fileId}/parts/`, {
      headers: { Accept: 'application/json' },
    });
    if (!response.ok) throw new Error(`parts -> ${response.status}`);
    return (await response.json()).parts;
  }, id);

/** No sideways scrolling at a phone's width. */
async function assertFitsPhone(page: Page, what: string) {
  await page.setViewportSize({ width: 360, height: 740 });
  try {
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(ARTIFACTS, `resume-${what}-phone.png`), fullPage: true });
    const overflow = await page.evaluate(
      () => inPage().document.documentElement.scrollWidth - inPage().document.documentElement.clientWidth,
    );
    assert.ok(overflow <= 0, `${what}: no horizontal overflow at 360px (${overflow}px)`);
  } finally {
    await page.setViewportSize({ width: 1100, height: 820 });
  }
}

for (const storage of ['local', 's3'] as const) {
  describe(`a 300 MiB upload in Chromium: pause, reload, resume (${storage} storage)`, {
    skip: storage === 's3' ? S3_SKIP : false,
    timeout: 10 * 60_000,
  }, () => {
    const cleanup = cleanupScope();
    let server: TestServer;
    let user: TestUser;
    let page: Page;
    let cdp: CDPSession;
    let closeBrowser: () => Promise<void>;
    const pageErrors: string[] = [];

    before(async () => {
      server = await startTestServer(cleanup.scope, { storage, env: { FILE_MAX_SIZE: '512MiB' } });
      user = await server.createUser();
      const browser = await launch();
      ({ page } = browser);
      closeBrowser = browser.close;
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      // leaving the page mid-upload asks first (beforeunload): the test says yes
      page.on('dialog', (dialog) => void dialog.accept());
      cdp = await browser.context.newCDPSession(page);
      await cdp.send('Network.enable');
    });

    after(async () => {
      await closeBrowser?.();
      await cleanup.run();
    });

    test('pauses and resumes; after a reload mid-way the same file continues from the parts already uploaded, and completes', async () => {
      const puts = recordPartPuts(page);
      await page.goto(server.baseUrl);
      await signIn(page, user);

      // first visit: slow enough to act mid-way
      await throttleUpload(cdp, 24 * MiB);
      await page.getByTestId('file-input').setInputFiles(FILE);
      const row = page.locator(ROW);
      await waitForPercent(page, 8);

      // pause: the status says so and no part completes while paused; resume goes on
      await row.getByRole('button', { name: `Pause upload of ${NAME}` }).click();
      await page.locator(`${ROW}[data-paused="true"]`).waitFor();
      assert.match((await row.innerText()).replace(/\s+/g, ' '), /Paused · \d+%/);
      await page.screenshot({ path: join(ARTIFACTS, `resume-${storage}-1-paused.png`), fullPage: true });
      await assertAccessible(page, 'a paused upload');
      await assertFitsPhone(page, `${storage}-paused`);
      await page.waitForTimeout(300); // parts cut by the pause are settled
      const whilePaused = puts.done.length;
      await page.waitForTimeout(1500);
      assert.equal(puts.done.length, whilePaused, 'no part goes up while paused');
      await row.getByRole('button', { name: `Resume upload of ${NAME}` }).click();
      await page.locator(`${ROW}:not([data-paused])`).waitFor();

      await waitForPercent(page, 30);
      const entry = await resumeEntry(page);
      assert.ok(entry, 'the upload is remembered in localStorage');
      assert.equal(entry.name, NAME);
      assert.equal(entry.size, SIZE);
      const before = await listParts(page, entry.id);
      assert.ok(before.length >= 3, `parts are on the storage before the reload (${before.length})`);
      assert.ok(
        puts.done.every((put) => put.md5 && /^[A-Za-z0-9+/]{22}==$/.test(put.md5)),
        'every part PUT carries its Content-MD5',
      );
      await page.screenshot({ path: join(ARTIFACTS, `resume-${storage}-2-before-reload.png`), fullPage: true });

      // the page is reloaded mid-way: the upload stops with it
      await page.reload();
      await page.getByRole('heading', { name: 'Upload files' }).waitFor();
      await throttleUpload(cdp, null);
      const afterReload = puts.nextPhase();
      const listed = await listParts(page, entry.id);
      assert.ok(listed.length >= before.length, 'the parts stay on the storage');
      const item = page.getByTestId('unfinished-item').filter({ hasText: NAME });
      await item.waitFor();
      await page.screenshot({ path: join(ARTIFACTS, `resume-${storage}-3-unfinished.png`), fullPage: true });
      await assertAccessible(page, 'the unfinished upload notice');

      // the same file chosen again: it resumes
      await page.getByTestId('file-input').setInputFiles(FILE);
      await page.locator(`${ROW}[data-resumed-bytes]`).waitFor();
      const resumedBytes = Number(await row.getAttribute('data-resumed-bytes'));
      assert.equal(
        resumedBytes,
        listed.reduce((sum, part) => sum + part.size, 0),
        'resumes with exactly the parts the storage has',
      );
      assert.match((await row.innerText()).replace(/\s+/g, ' '), /Resuming: \d+(\.\d)? MB already uploaded/);
      await page.screenshot({ path: join(ARTIFACTS, `resume-${storage}-4-resuming.png`), fullPage: true });
      await assertFitsPhone(page, `${storage}-resuming`);
      await page.waitForFunction(
        (selector) =>
          ['done', 'error', 'cancelled'].includes(
            inPage().document.querySelector(selector)?.getAttribute('data-state') ?? '',
          ),
        ROW,
        {
          timeout: 300_000,
          polling: 200,
        },
      );
      const outcome = (await row.innerText()).replace(/\s+/g, ' ');
      assert.equal(await row.getAttribute('data-state'), 'done', outcome);
      await page.screenshot({ path: join(ARTIFACTS, `resume-${storage}-5-done.png`), fullPage: true });

      // fewer bytes sent than the file, none of them a part that was already there
      const sentAfter = puts.bytes(afterReload);
      const resent = puts.done.filter(
        (put) => put.phase === afterReload && listed.some((part) => part.part_number === put.partNumber),
      );
      assert.deepEqual(resent, [], 'no part already uploaded was sent again');
      assert.ok(sentAfter < SIZE, `after the reload ${sentAfter} bytes were sent, less than the ${SIZE} of the file`);
      assert.equal(sentAfter, SIZE - resumedBytes, 'exactly the missing parts');
      assert.equal(await resumeEntry(page), null, 'forgotten when done');
      assert.equal(await page.getByTestId('unfinished').count(), 0, 'nothing left unfinished');

      // one valid record with the right bytes, and the SHA-256 the worker computed
      const files = await page.evaluate(
        async () => (await (await fetch('/api/files/?limit=100&offset=0')).json()).results,
      );
      const mine = files.filter((file: { original_file_name: string }) => file.original_file_name === NAME);
      assert.equal(mine.length, 1, 'one record: the resumed upload');
      assert.equal(mine[0].id, entry.id);
      assert.equal(mine[0].is_valid, true);
      assert.equal(mine[0].file_size, SIZE);
      assert.equal(
        await sha256OfUrl(new URL(mine[0].url, server.baseUrl).href),
        FILE_SHA256,
        'the stored bytes are the file',
      );
      const row2 = await server.app.chute.db
        .selectFrom('chute_files')
        .select('sha256')
        .where('id', '=', entry.id)
        .executeTakeFirstOrThrow();
      assert.equal(row2.sha256, FILE_SHA256, "the SHA-256 computed in the page's worker was stored");
      assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
    });
  });
}
