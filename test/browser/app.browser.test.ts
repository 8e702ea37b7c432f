// End-to-end: the built web app (web/dist) served by a real Chute, driven in Debian's Chromium
// through playwright-core. The same scenarios run for local storage and for S3 (a real S3 API: the
// RGW that `npm test -- --browser` starts, or any S3_ENDPOINT).
//
//   npm test -- --browser                     (starts RGW, runs test/browser/*)
//   node --import tsx --test test/browser/app.browser.test.ts     (local only unless S3_ENDPOINT is set)
//
// Env: CHROMIUM_PATH, CHUTE_WEB_BUILT (see support.ts). Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { startTestServer, type TestServer, type TestUser } from '../helpers.js';
import {
  artifactsFor,
  assertAccessible,
  cleanupScope,
  ensureWebBuilt,
  fixtureFolder,
  launch,
  S3_SKIP,
  sha256InPage,
  signIn,
  throttleUpload,
} from './support.js';

const MiB = 1024 * 1024;
const FILE_MAX_SIZE = 32 * MiB;
const ROW = (name: string) => `[data-testid="upload-row"][data-name="${name}"]`;
const FILE_ROW = (name: string) => `[data-testid="file-row"][data-name="${name}"]`;

// ---------- once per run: the web app build and the files to upload ----------

ensureWebBuilt();
const ARTIFACTS = artifactsFor('browser');
const fixture = fixtureFolder('browser');
const SMALL = fixture('small note.txt', Buffer.from('Hello from the Chute browser test.\n'.repeat(40)));
const BIG = fixture('big-30mb.bin', randomBytes(30 * MiB));
const TOO_LARGE = fixture('too-large.bin', Buffer.alloc(FILE_MAX_SIZE + MiB, 7));
const SLOW = fixture('cancel-me.bin', randomBytes(12 * MiB));
// the dropped file is made inside the page; the same generator here gives its expected bytes
const DROPPED_NAME = 'dropped.txt';
const DROPPED_TEXT = Array.from({ length: 3000 }, (_, i) => `line ${i} of the dropped file\n`).join('');
const DROPPED_SHA = createHash('sha256').update(DROPPED_TEXT).digest('hex');

// ---------- helpers ----------

// Functions given to page.evaluate run in Chromium, not here. They reach the page's globals
// through inPage() (defined in the page by an init script), loosely typed, so that this file
// type-checks with or without the DOM lib.
type PageNode = any;
declare function inPage(): any;

let shot = 0;
async function screenshot(page: Page, storage: string, name: string) {
  shot++;
  await page.screenshot({
    path: join(ARTIFACTS, `browser-${storage}-${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  });
}

/** Waits until the upload row of `name` is done, failed or cancelled; returns its state and text. */
async function rowOutcome(page: Page, name: string, timeout = 120_000) {
  const row = page.locator(ROW(name));
  await page.waitForFunction(
    (selector) =>
      ['done', 'error', 'cancelled'].includes(
        inPage().document.querySelector(selector)?.getAttribute('data-state') ?? '',
      ),
    ROW(name),
    { timeout, polling: 100 },
  );
  return { state: await row.getAttribute('data-state'), text: (await row.innerText()).replace(/\s+/g, ' ') };
}

/** Records every aria-valuenow the progress bars take, by file name. */
async function recordProgress(page: Page) {
  await page.evaluate(() => {
    const { document, MutationObserver, Element } = inPage();
    const seen: Record<string, number[]> = {};
    inPage().__progress = seen;
    const record = (bar: PageNode) => {
      const name = bar.closest('[data-testid="upload-row"]')?.getAttribute('data-name');
      const value = Number(bar.getAttribute('aria-valuenow'));
      if (!name) return;
      const list = (seen[name] ??= []);
      if (list.at(-1) !== value) list.push(value);
    };
    new MutationObserver((mutations: Array<{ type: string; target: PageNode; addedNodes: PageNode[] }>) => {
      for (const mutation of mutations) {
        const { target } = mutation;
        if (mutation.type === 'attributes' && target.getAttribute('role') === 'progressbar') record(target);
        for (const node of mutation.addedNodes)
          if (node instanceof Element) node.querySelectorAll('[role="progressbar"]').forEach(record);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });
}
const progressOf = (page: Page): Promise<Record<string, number[]>> => page.evaluate(() => inPage().__progress);

interface ApiFile {
  id: number;
  original_file_name: string;
  is_valid: boolean;
  url: string | null;
  file_size: number | null;
}
/** The signed-in user's files, through the API with the page's own cookie. */
const apiFiles = (page: Page): Promise<ApiFile[]> =>
  page.evaluate(async () => {
    const response = await fetch('/api/files/?limit=100&offset=0', { headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(`GET /api/files/ -> ${response.status}`);
    return ((await response.json()) as { results: ApiFile[] }).results;
  });

/** Fetches a URL in the page (as a user's click would) and hashes the bytes. */
// ---------- the scenarios, once per storage ----------

for (const storage of ['local', 's3'] as const) {
  describe(`web app with ${storage} storage`, {
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
      server = await startTestServer(cleanup.scope, { storage, env: { FILE_MAX_SIZE: String(FILE_MAX_SIZE) } });
      user = await server.createUser();
      const browser = await launch();
      ({ page } = browser);
      closeBrowser = browser.close;
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      cdp = await browser.context.newCDPSession(page);
      await cdp.send('Network.enable');
    });

    after(async () => {
      await closeBrowser?.();
      await cleanup.run();
    });

    test('signs in (a wrong password is refused in plain words)', async () => {
      await page.goto(server.baseUrl);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email').fill(user.email);
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('signin-error').getByText('Wrong email or password.').waitFor();
      await screenshot(page, storage, 'signin-error');
      await assertAccessible(page, 'sign-in page');
      await signIn(page, user);
      assert.equal(await page.getByTestId('current-user').innerText(), user.email);
      await page.getByRole('heading', { name: 'Upload files' }).waitFor();
      await screenshot(page, storage, 'signed-in');
    });

    test('uploads a small and a 30 MiB file chosen with the file picker; progress moves and reaches done', async () => {
      await recordProgress(page);
      await page.getByTestId('file-input').setInputFiles([SMALL.path, BIG.path]);
      await page.locator(ROW(BIG.name)).waitFor();
      const small = await rowOutcome(page, SMALL.name);
      const big = await rowOutcome(page, BIG.name);
      await screenshot(page, storage, 'picker-done');
      assert.equal(small.state, 'done', small.text);
      assert.equal(big.state, 'done', big.text);
      assert.match(big.text, /Done/);
      const values = (await progressOf(page))[BIG.name] ?? [];
      assert.ok(
        values.some((v) => v > 0 && v < 100),
        `the 30 MiB file showed progress between 0 and 100: ${values.join(',')}`,
      );
      assert.equal(values.at(-1), 100);
      for (let i = 1; i < values.length; i++)
        assert.ok(values[i]! >= values[i - 1]!, `progress only grows: ${values.join(',')}`);
    });

    test('uploads a file dropped on the drop zone', async () => {
      await page.getByTestId('dropzone').evaluate(
        (zone, { name, text }) => {
          const { DataTransfer, DragEvent, File } = inPage();
          const data = new DataTransfer();
          data.items.add(new File([text], name, { type: 'text/plain' }));
          for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
          }
        },
        { name: DROPPED_NAME, text: DROPPED_TEXT },
      );
      const dropped = await rowOutcome(page, DROPPED_NAME);
      assert.equal(dropped.state, 'done', dropped.text);
    });

    test('My files lists them newest first, valid, and the download links give back the same bytes', async () => {
      await page.getByRole('link', { name: 'My files' }).click();
      await page.waitForURL(/\/files$/);
      await page.locator(FILE_ROW(DROPPED_NAME)).waitFor();
      await screenshot(page, storage, 'my-files');
      await assertAccessible(page, 'my files');
      const names = await page
        .getByTestId('file-row')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name')));
      assert.equal(names[0], DROPPED_NAME, `newest first: ${names.join(', ')}`);
      assert.deepEqual([...names].sort(), [BIG.name, DROPPED_NAME, SMALL.name].sort());
      for (const [name, sha] of [
        [SMALL.name, SMALL.sha256],
        [BIG.name, BIG.sha256],
        [DROPPED_NAME, DROPPED_SHA],
      ] as const) {
        const row = page.locator(FILE_ROW(name));
        assert.equal(await row.getAttribute('data-state'), 'valid');
        const href = await row.getByTestId('download').getAttribute('href');
        assert.ok(href, `${name} has a download link`);
        assert.equal(await sha256InPage(page, href), sha, `${name}: downloaded bytes match`);
      }
      const big = page.locator(FILE_ROW(BIG.name));
      assert.match(await big.innerText(), /30(\.0)? MB/);
    });

    test('a file over FILE_MAX_SIZE shows a clear error and leaves no valid file', async () => {
      await page.getByRole('link', { name: 'Upload' }).click();
      await page.getByTestId('file-input').setInputFiles(TOO_LARGE.path);
      const outcome = await rowOutcome(page, TOO_LARGE.name);
      await screenshot(page, storage, 'too-large');
      assert.equal(outcome.state, 'error');
      assert.match(outcome.text, /This file is larger than the 32 MiB limit\./);
      assert.ok(
        await page.locator(ROW(TOO_LARGE.name)).getByTestId('retry').isVisible(),
        'a failed upload offers Retry',
      );
      await assertAccessible(page, 'upload page with done and failed rows');
      const files = await apiFiles(page);
      assert.ok(
        !files.some((f) => f.original_file_name === TOO_LARGE.name && f.is_valid),
        'no valid record of the too-large file',
      );
    });

    test('cancel mid-upload stops it, leaves no file, and Retry then uploads it', async () => {
      await recordProgress(page);
      await throttleUpload(cdp, 1 * MiB);
      try {
        await page.getByTestId('file-input').setInputFiles(SLOW.path);
        const row = page.locator(ROW(SLOW.name));
        await page.waitForFunction(
          (selector) => {
            const value = Number(
              inPage().document.querySelector(`${selector} [role="progressbar"]`)?.getAttribute('aria-valuenow') ?? 0,
            );
            return value >= 10;
          },
          ROW(SLOW.name),
          { polling: 100, timeout: 60_000 },
        );
        await screenshot(page, storage, 'cancel-midway');
        const at = Number(await row.getByRole('progressbar').getAttribute('aria-valuenow'));
        assert.ok(at < 100, `cancelled mid-way, at ${at}%`);
        await row.getByRole('button', { name: `Cancel upload of ${SLOW.name}` }).click();
        const outcome = await rowOutcome(page, SLOW.name, 30_000);
        assert.equal(outcome.state, 'cancelled', outcome.text);
        await screenshot(page, storage, 'cancelled');
      } finally {
        await throttleUpload(cdp, null);
      }
      const files = await apiFiles(page);
      assert.ok(!files.some((f) => f.original_file_name === SLOW.name), 'the pending record was deleted on cancel');

      await page
        .locator(ROW(SLOW.name))
        .getByRole('button', { name: `Retry upload of ${SLOW.name}` })
        .click();
      await page.locator(`${ROW(SLOW.name)}:not([data-state="cancelled"])`).waitFor();
      const retried = await rowOutcome(page, SLOW.name);
      assert.equal(retried.state, 'done', retried.text);
      const after = await apiFiles(page);
      assert.equal(after.filter((f) => f.original_file_name === SLOW.name && f.is_valid).length, 1);
    });

    test('delete asks for confirmation first', async () => {
      await page.getByRole('link', { name: 'My files' }).click();
      const row = page.locator(FILE_ROW(SMALL.name));
      await row.getByRole('button', { name: `Delete ${SMALL.name}` }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete this file?' });
      await dialog.waitFor();
      await screenshot(page, storage, 'confirm-delete');
      await assertAccessible(page, 'delete confirmation');
      await dialog.getByRole('button', { name: 'Keep it' }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await row.count(), 1, 'kept');
      await row.getByRole('button', { name: `Delete ${SMALL.name}` }).click();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await row.waitFor({ state: 'detached' });
      const files = await apiFiles(page);
      assert.ok(!files.some((f) => f.original_file_name === SMALL.name), 'deleted on the server');
    });

    test('works with the keyboard: Tab reaches the file picker, Escape closes the dialog', async () => {
      await page.getByRole('link', { name: 'Upload' }).click();
      await page.locator('body').focus();
      let reached = false;
      for (let i = 0; i < 12 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate(() => inPage().document.activeElement?.id === 'file-input');
      }
      assert.ok(reached, 'the file input is in the tab order');
      const ring = await page
        .locator('label[for="file-input"]')
        .evaluate((label) => inPage().getComputedStyle(label).boxShadow);
      assert.notEqual(ring, 'none', 'the Choose files button shows the keyboard focus');

      await page.getByRole('link', { name: 'My files' }).click();
      await page.getByTestId('file-row').first().getByTestId('delete').focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Delete this file?' });
      await dialog.waitFor();
      assert.equal(
        await page.evaluate(() => inPage().document.activeElement?.textContent),
        'Keep it',
        'the safe choice has the focus',
      );
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
    });

    test('fits a narrow phone screen without sideways scrolling (in dark mode)', async () => {
      await page.setViewportSize({ width: 360, height: 740 });
      await page.emulateMedia({ colorScheme: 'dark' });
      try {
        for (const [link, name] of [
          ['My files', 'phone-files'],
          ['Upload', 'phone-upload'],
        ] as const) {
          await page.getByRole('link', { name: link }).click();
          await page.waitForTimeout(150);
          await screenshot(page, storage, name);
          await assertAccessible(page, `${name} (360px wide)`);
          const overflow = await page.evaluate(() => {
            const root = inPage().document.documentElement;
            return root.scrollWidth - root.clientWidth;
          });
          assert.ok(overflow <= 0, `${link}: no horizontal overflow (${overflow}px)`);
        }
      } finally {
        await page.setViewportSize({ width: 1100, height: 820 });
        await page.emulateMedia({ colorScheme: 'light' });
      }
    });

    /** A second Chute (own bucket or media folder, own browser profile: cookies do not tell ports apart). */
    async function withOtherServer(options: Parameters<typeof startTestServer>[1], run: (page: Page) => Promise<void>) {
      const other = await startTestServer(cleanup.scope, options);
      const otherUser = await other.createUser();
      const browser = await launch();
      try {
        await browser.page.goto(other.baseUrl);
        await signIn(browser.page, otherUser);
        await run(browser.page);
      } finally {
        await browser.close();
        await other.close();
      }
    }

    if (storage === 's3') {
      test("a bucket whose CORS does not allow the page's origin gives a distinct CORS error", async () => {
        await withOtherServer({ storage, corsOrigins: ['https://somewhere-else.example'] }, async (other) => {
          await other.getByTestId('file-input').setInputFiles(SMALL.path);
          const outcome = await rowOutcome(other, SMALL.name);
          await screenshot(other, storage, 'cors-refused');
          assert.equal(outcome.state, 'error');
          assert.match(outcome.text, /The storage refused the browser's request \(CORS\)/);
          const files = await apiFiles(other);
          assert.deepEqual(files, [], 'nothing left behind: the pending record was deleted');
        });
      });
    }

    test('an upload that reaches the storage after its url expired says so, and Retry gets a new one', async () => {
      const expiry = 3;
      await withOtherServer({ storage, env: { AWS_PRESIGNED_EXPIRY: String(expiry) } }, async (other) => {
        // hold the POST to the bucket (or to Chute's local endpoint) until its url has expired
        const s3Origin = new URL(process.env.S3_ENDPOINT ?? 'http://s3.invalid').origin;
        const toStorage = (url: URL) =>
          storage === 's3' ? url.origin === s3Origin : url.pathname.startsWith('/api/files/upload/direct/local/');
        await other.route(toStorage, async (route) => {
          if (route.request().method() === 'POST')
            await new Promise((resolve) => setTimeout(resolve, (expiry + 2) * 1000));
          await route.continue();
        });
        await other.getByTestId('file-input').setInputFiles(SMALL.path);
        const outcome = await rowOutcome(other, SMALL.name);
        await screenshot(other, storage, 'policy-expired');
        assert.equal(outcome.state, 'error', outcome.text);
        assert.match(outcome.text, /The upload link expired before the file was sent/);

        await other.unroute(toStorage);
        await other.locator(ROW(SMALL.name)).getByTestId('retry').click();
        await other.locator(`${ROW(SMALL.name)}:not([data-state="error"])`).waitFor();
        const retried = await rowOutcome(other, SMALL.name);
        assert.equal(retried.state, 'done', retried.text);
      });
    });

    test('signs out', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const status = await page.evaluate(async () => (await fetch('/api/auth/me/')).status);
      assert.equal(status, 401);
      assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
    });
  });
}
