// End-to-end: the admin (/admin) of the built web app, served by a real Chute, driven in Debian's
// Chromium through playwright-core. A staff user adds files (through the server and directly to
// the storage), finds them in the list with search, filters and sorting, replaces one, deletes
// them (one, then in bulk), manages users; a non-staff user gets the 403 page. Local storage, and
// S3 when S3_ENDPOINT is set.
//
//   npm run test:browser                       (starts RGW, runs test/browser/*)
//   node --import tsx --test test/browser/admin.browser.test.ts     (local only unless S3_ENDPOINT is set)
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium), CHUTE_WEB_BUILT=1 never rebuilds web/dist.
// Screenshots go to test-artifacts/admin-*.png.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
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
  type Fixture,
} from './support.js';

const KiB = 1024;
const ADMIN_MAX = 256 * KiB;
const ROW = (name: string) => `[data-testid="admin-file-row"][data-name="${name}"]`;

// ---------- once per run: the web app build and the files to upload ----------

ensureWebBuilt();
const ARTIFACTS = artifactsFor('admin');
const fixture = fixtureFolder('admin');
const REPORT = fixture('quarterly report.txt', Buffer.from('Quarterly figures, first draft.\n'.repeat(50)));
const REPORT_V2 = fixture('quarterly report v2.csv', Buffer.from('quarter,revenue\nQ1,100\nQ2,120\n'.repeat(40)));
const PHOTO = fixture(
  'team photo.png',
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64 * KiB, 3)]),
);
const BIG = fixture('big export.bin', Buffer.alloc(ADMIN_MAX + 4 * KiB, 5));
const NOTES = fixture('notes.md', Buffer.from('# Notes\n\nSome notes.\n'));

// ---------- helpers ----------

declare function inPage(): any;

let shot = 0;
async function screenshot(page: Page, storage: string, name: string) {
  shot++;
  await page.screenshot({
    path: join(ARTIFACTS, `admin-${storage}-${String(shot).padStart(2, '0')}-${name}.png`),
    fullPage: true,
  });
}

async function assertNoSidewaysScroll(page: Page, what: string) {
  const overflow = await page.evaluate(() => {
    const root = inPage().document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
  assert.ok(overflow <= 0, `${what}: no horizontal overflow (${overflow}px)`);
}

/** Names in the admin list, top to bottom. */
const listedNames = (page: Page) =>
  page.getByTestId('admin-file-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name')));

/** Waits for the list to show exactly these names (in any order). */
async function waitForNames(page: Page, names: string[], { ordered = false } = {}) {
  const expected = ordered ? names : [...names].sort();
  await page
    .waitForFunction(
      ({ want, ordered }) => {
        const rows = [...inPage().document.querySelectorAll('[data-testid="admin-file-row"]')].map(
          (row: { getAttribute(name: string): string }) => row.getAttribute('data-name'),
        );
        const busy = inPage().document.querySelector('section[aria-busy="true"]');
        return !busy && JSON.stringify(ordered ? rows : rows.sort()) === JSON.stringify(want);
      },
      { want: expected, ordered },
      { polling: 100, timeout: 15_000 },
    )
    .catch(async (error: unknown) => {
      throw new Error(
        `the list shows ${JSON.stringify(await listedNames(page))}, not ${JSON.stringify(expected)}: ${String(error)}`,
      );
    });
}

/** Adds a file from the "Add file" page; ends on the new file's page. */
async function addFile(
  page: Page,
  file: Fixture,
  { method = 'server', uploader }: { method?: 'server' | 'direct'; uploader?: string } = {},
) {
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Add file' }).click();
  await page.getByRole('heading', { name: 'Add a file' }).waitFor();
  await page.getByTestId('admin-file-input').setInputFiles(file.path);
  await page.getByTestId(method === 'server' ? 'method-server' : 'method-direct').check();
  if (uploader) await page.getByTestId('admin-add-uploader').selectOption({ label: uploader });
  await page.getByTestId('admin-add-submit').click();
  await page.getByTestId('admin-file-title').getByText(file.name, { exact: true }).waitFor();
}

// ---------- the scenarios, once per storage ----------

for (const storage of ['local', 's3'] as const) {
  describe(`admin with ${storage} storage`, { skip: storage === 's3' ? S3_SKIP : false, timeout: 10 * 60_000 }, () => {
    const cleanup = cleanupScope();
    let server: TestServer;
    let staff: TestUser;
    let alice: TestUser;
    let page: Page;
    let closeBrowser: () => Promise<void>;
    const pageErrors: string[] = [];

    before(async () => {
      server = await startTestServer(cleanup.scope, { storage, env: { FILE_ADMIN_MAX_SIZE: String(ADMIN_MAX) } });
      staff = await server.createUser({ staff: true, email: `staff-${storage}@example.com` });
      alice = await server.createUser({ email: `alice-${storage}@example.com` });
      const browser = await launch({ viewport: { width: 1280, height: 860 } });
      ({ page } = browser);
      closeBrowser = browser.close;
      page.on('pageerror', (error) => pageErrors.push(String(error)));
    });

    after(async () => {
      await closeBrowser?.();
      await cleanup.run();
    });

    test('a user who is not staff gets a clear 403 page at /admin, and no Admin link', async () => {
      await page.goto(`${server.baseUrl}/admin`);
      await signIn(page, alice);
      const forbidden = page.getByTestId('admin-forbidden');
      await forbidden.getByRole('heading', { name: 'Staff only' }).waitFor();
      assert.match(await forbidden.innerText(), /403/);
      assert.match(await forbidden.innerText(), new RegExp(alice.email.replace('.', '\\.')));
      assert.equal(
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count(),
        0,
      );
      await screenshot(page, storage, 'forbidden');
      await assertAccessible(page, '403 page');
      // and the API agrees
      assert.equal(await page.evaluate(async () => (await fetch('/api/admin/files/')).status), 403);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    });

    test('staff sign in, follow the Admin link and see an empty list', async () => {
      await page.goto(server.baseUrl);
      await signIn(page, staff);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
      await page.waitForURL(/\/admin$/);
      await page.getByRole('heading', { name: 'Files' }).waitFor();
      await page.getByTestId('admin-count').getByText('No files match.').waitFor();
      assert.equal(await page.title(), 'Files · Admin · Chute');
    });

    test('adds a file through the server for another user: name and type inferred, valid at once', async () => {
      await addFile(page, REPORT, { uploader: alice.email });
      await screenshot(page, storage, 'file-page');
      assert.equal(await page.getByTestId('meta-original').innerText(), REPORT.name);
      assert.equal(await page.getByTestId('meta-type').innerText(), 'text/plain');
      assert.match(await page.getByTestId('meta-generated').innerText(), /^[0-9a-f]{32}\.txt$/);
      assert.match(
        await page.getByTestId('meta-size').innerText(),
        new RegExp(`${REPORT.size.toLocaleString('en')} bytes`),
      );
      assert.match(await page.getByTestId('admin-meta').innerText(), new RegExp(alice.email.replace('.', '\\.')));
      const href = await page.getByTestId('download').getAttribute('href');
      assert.equal(await sha256InPage(page, href!), REPORT.sha256, 'the download gives back the same bytes');
      await assertAccessible(page, 'file page');
    });

    test('adds a file directly to the storage with the client library', async () => {
      await addFile(page, PHOTO, { method: 'direct' });
      assert.equal(await page.getByTestId('meta-type').innerText(), 'image/png');
      assert.match(await page.getByTestId('admin-meta').innerText(), /Direct/);
      const href = await page.getByTestId('download').getAttribute('href');
      assert.equal(await sha256InPage(page, href!), PHOTO.sha256);
      await addFile(page, NOTES);
    });

    test('a file over FILE_ADMIN_MAX_SIZE is refused with a message, and nothing is added', async () => {
      await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Add file' }).click();
      await page.getByTestId('admin-file-input').setInputFiles(BIG.path);
      await page.getByTestId('admin-add-submit').click();
      const error = page.getByTestId('admin-add-error');
      await error.waitFor();
      assert.match(await error.innerText(), /larger than the 256 KiB limit/);
      await screenshot(page, storage, 'too-large');
      await assertAccessible(page, 'add file with an error');
      const count = await page.evaluate(async () => (await (await fetch('/api/admin/files/')).json()).count);
      assert.equal(count, 3);
    });

    test('the list shows the files; search, filters and sorting narrow and order it', async () => {
      await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Files' }).click();
      await waitForNames(page, [REPORT.name, PHOTO.name, NOTES.name]);
      assert.deepEqual(await listedNames(page), [NOTES.name, PHOTO.name, REPORT.name], 'newest first');
      const row = page.locator(ROW(REPORT.name));
      const text = await row.innerText();
      for (const part of [alice.email, 'text/plain', 'Valid', 'Download'])
        assert.ok(text.includes(part), `the row shows ${part}: ${text}`);
      await screenshot(page, storage, 'list');
      await assertAccessible(page, 'file list');

      await page.getByTestId('admin-search').fill('REPORT');
      await page.getByRole('button', { name: 'Search' }).click();
      await waitForNames(page, [REPORT.name]);
      assert.match(page.url(), /search=REPORT/);
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await waitForNames(page, [REPORT.name, PHOTO.name, NOTES.name]);

      await page.getByTestId('admin-uploader').selectOption({ label: alice.email });
      await waitForNames(page, [REPORT.name]);
      await screenshot(page, storage, 'filtered');
      await page.getByTestId('admin-status').selectOption('pending');
      await page.getByTestId('admin-count').getByText('No files match.').waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await waitForNames(page, [REPORT.name, PHOTO.name, NOTES.name]);

      await page.getByTestId('sort-original_file_name').click();
      await page.waitForURL(/sort=original_file_name&order=asc/);
      // the same names in the old order until the new page of the list arrives
      await waitForNames(page, [NOTES.name, REPORT.name, PHOTO.name], { ordered: true });
      assert.equal(
        await page.locator('th[aria-sort="ascending"]').textContent(),
        'Original name▲',
        'the header says how the list is sorted',
      );
      await page.getByTestId('sort-file_size').click();
      await page.waitForURL(/sort=file_size&order=desc/);
      await waitForNames(page, [PHOTO.name, REPORT.name, NOTES.name], { ordered: true }); // by size, largest first

      await page.goBack();
      await page.waitForURL(/sort=original_file_name&order=asc/);
      await waitForNames(page, [NOTES.name, REPORT.name, PHOTO.name], { ordered: true }); // back restores the sort
    });

    test('replaces a file: new generated name, type inferred again, the new bytes served', async () => {
      await page.locator(ROW(REPORT.name)).getByRole('link', { name: REPORT.name, exact: true }).click();
      await page.getByTestId('admin-file-title').getByText(REPORT.name).waitFor();
      const before = await page.getByTestId('meta-generated').innerText();

      // too large first: refused on the page, nothing changed
      await page.getByTestId('admin-replace-input').setInputFiles(BIG.path);
      await page.getByTestId('admin-replace-submit').click();
      await page
        .getByTestId('admin-replace-error')
        .getByText(/larger than the 256 KiB limit\. Nothing was changed\./)
        .waitFor();
      assert.equal(await page.getByTestId('meta-generated').innerText(), before);

      await page.getByTestId('admin-replace-input').setInputFiles(REPORT_V2.path);
      await page.getByTestId('admin-replace-submit').click();
      await page.getByTestId('admin-message').getByText(`Replaced with ${REPORT_V2.name}.`).waitFor();
      await screenshot(page, storage, 'replaced');
      assert.equal(await page.getByTestId('admin-file-title').innerText(), REPORT_V2.name);
      assert.equal(await page.getByTestId('meta-type').innerText(), 'text/csv');
      const after = await page.getByTestId('meta-generated').innerText();
      assert.match(after, /^[0-9a-f]{32}\.csv$/);
      assert.notEqual(after, before);
      assert.match(
        await page.getByTestId('admin-meta').innerText(),
        new RegExp(alice.email.replace('.', '\\.')),
        'the uploader stays',
      );
      const href = await page.getByTestId('download').getAttribute('href');
      assert.equal(await sha256InPage(page, href!), REPORT_V2.sha256);
      await assertAccessible(page, 'file page after replace');
    });

    test('deletes a file from its page after confirming, then the rest in bulk from the list', async () => {
      await page.getByTestId('admin-delete').click();
      const dialog = page.getByRole('dialog', { name: 'Delete this file?' });
      await dialog.waitFor();
      await screenshot(page, storage, 'confirm-delete');
      await assertAccessible(page, 'delete confirmation');
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await page.getByTestId('admin-message').getByText(`${REPORT_V2.name} deleted.`).waitFor();
      await waitForNames(page, [PHOTO.name, NOTES.name]);

      await page.getByTestId('select-all').check();
      await page
        .getByTestId('admin-count')
        .getByText(/2 selected/)
        .waitFor();
      await page.getByTestId('delete-selected').click();
      const bulk = page.getByRole('dialog', { name: 'Delete 2 files?' });
      await bulk.waitFor();
      await bulk.getByRole('button', { name: 'Delete' }).click();
      await page.getByTestId('admin-message').getByText('2 files deleted.').waitFor();
      await page.getByTestId('admin-count').getByText('No files match.').waitFor();
      await screenshot(page, storage, 'all-deleted');
      const left = await page.evaluate(async () => (await (await fetch('/api/admin/files/')).json()).count);
      assert.equal(left, 0);
    });

    test('deletes pending uploads older than N hours', async () => {
      // a pending upload by alice, started through the API and never finished
      const started = await fetch(`${server.baseUrl}/api/files/upload/direct/start/`, {
        method: 'POST',
        headers: { ...alice.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ file_name: 'abandoned.txt', file_type: 'text/plain' }),
      });
      assert.equal(started.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // "older than 0 hours" still means started at least a second ago
      await page.reload();
      await waitForNames(page, ['abandoned.txt']);
      assert.equal(await page.locator(ROW('abandoned.txt')).getAttribute('data-state'), 'pending');
      await page.getByLabel('Older than (hours)').fill('0');
      await page.getByTestId('delete-pending').click();
      const dialog = page.getByRole('dialog', { name: 'Delete old pending uploads?' });
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await page
        .getByTestId('admin-message')
        .getByText(/1 pending upload deleted/)
        .waitFor();
      await page.getByTestId('admin-count').getByText('No files match.').waitFor();
    });

    test('users: create one, reset a password, deactivate (their session ends)', async () => {
      await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      await page.getByText('Add a user').click();
      const form = page.getByTestId('admin-create-user');
      await form.getByLabel('Email').fill(`carol-${storage}@example.com`);
      await form.getByLabel('Password').fill('short');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page
        .getByTestId('admin-create-error')
        .getByText(/at least 8 characters/)
        .waitFor();
      await form.getByLabel('Password').fill('carol has a long password');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.getByTestId('admin-message').getByText(`carol-${storage}@example.com created.`).waitFor();
      const carol = page.locator(`[data-testid="admin-user-row"][data-email="carol-${storage}@example.com"]`);
      await carol.waitFor();
      await screenshot(page, storage, 'users');
      await assertAccessible(page, 'users page');

      await carol.getByRole('button', { name: /Reset password/ }).click();
      const dialog = page.getByRole('dialog', { name: 'Set a new password' });
      await dialog.getByLabel('New password').fill('a new password for carol');
      await dialog.getByRole('button', { name: 'Set password' }).click();
      await page
        .getByTestId('admin-message')
        .getByText(/New password set/)
        .waitFor();
      const login = await fetch(`${server.baseUrl}/api/auth/login/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `carol-${storage}@example.com`, password: 'a new password for carol' }),
      });
      assert.equal(login.status, 200, 'the new password works');
      const { session } = (await login.json()) as { session: string };

      await carol.getByRole('button', { name: /Deactivate/ }).click();
      await page
        .getByRole('dialog', { name: 'Deactivate this user?' })
        .getByRole('button', { name: 'Deactivate' })
        .click();
      await page
        .getByTestId('admin-message')
        .getByText(/deactivated/)
        .waitFor();
      await page
        .locator(`[data-testid="admin-user-row"][data-email="carol-${storage}@example.com"][data-active="false"]`)
        .waitFor();
      const me = await fetch(`${server.baseUrl}/api/auth/me/`, { headers: { authorization: `Bearer ${session}` } });
      assert.equal(me.status, 401, "carol's session ended");
    });

    test('fits a narrow phone screen without sideways scrolling (in dark mode)', async () => {
      await page.setViewportSize({ width: 360, height: 740 });
      await page.emulateMedia({ colorScheme: 'dark' });
      try {
        await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Add file' }).click();
        await addFile(page, NOTES);
        await screenshot(page, storage, 'phone-file');
        await assertNoSidewaysScroll(page, 'file page');
        await assertAccessible(page, 'file page (360px)');
        await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Files' }).click();
        await waitForNames(page, [NOTES.name]);
        await screenshot(page, storage, 'phone-list');
        await assertNoSidewaysScroll(page, 'file list');
        await assertAccessible(page, 'file list (360px)');
        await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click();
        await page.getByTestId('admin-user-row').first().waitFor();
        await screenshot(page, storage, 'phone-users');
        await assertNoSidewaysScroll(page, 'users');
      } finally {
        await page.setViewportSize({ width: 1280, height: 860 });
        await page.emulateMedia({ colorScheme: 'light' });
      }
      assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
    });
  });
}
