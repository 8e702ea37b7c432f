// The web app as a person meets it, on a phone and on a desktop: long file names, the columns of
// My files, a session that ends while the app is open, and paging with the keyboard.
//
//   node scripts/run-tests.mjs --browser test/browser/ux.browser.test.ts
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { defer, startTestServer, type TestServer, type TestUser } from '../helpers.js';
import {
  artifactsFor,
  assertAccessible,
  cleanupScope,
  ensureWebBuilt,
  fixtureFolder,
  launch,
  signIn,
  throttleUpload,
  type Browser,
} from './support.js';

declare function inPage(): any;

ensureWebBuilt();
const ARTIFACTS = artifactsFor('ux');
const fixture = fixtureFolder('ux');
const PHONE = { width: 390, height: 844 };
const LONG_NAME = `quarterly-report-${'0123456789abcdef'.repeat(12)}-final.txt`;

/** A file stored through the server (valid at once); its record. */
async function store(server: TestServer, user: TestUser, name: string, content = 'hello\n'): Promise<{ id: number }> {
  const form = new FormData();
  form.append('file', new Blob([content]), name);
  const response = await fetch(`${server.baseUrl}/api/files/upload/standard/`, {
    method: 'POST',
    headers: user.headers,
    body: form,
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as { id: number };
}

/** An upload started and never sent: a pending record. */
async function startOnly(server: TestServer, user: TestUser, name: string, type: string): Promise<void> {
  const response = await fetch(`${server.baseUrl}/api/files/upload/direct/start/`, {
    method: 'POST',
    headers: { ...user.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ file_name: name, file_type: type }),
  });
  assert.equal(response.status, 200, await response.clone().text());
}

const activeElement = (page: Page) =>
  page.evaluate(() => {
    const element = inPage().document.activeElement;
    return `${element?.tagName.toLowerCase()}${element?.id ? `#${element.id}` : ''} ${element?.textContent?.trim().slice(0, 40) ?? ''}`;
  });

describe('the web app on a phone and a desktop', { timeout: 5 * 60_000 }, () => {
  const cleanup = cleanupScope();
  let server: TestServer;
  before(async () => {
    server = await startTestServer(cleanup.scope, { storage: 'local' });
  });
  after(cleanup.run);

  async function browserFor(
    t: { after: (fn: () => unknown) => void },
    viewport?: { width: number; height: number },
  ): Promise<Browser> {
    const browser = await launch(viewport ? { viewport } : {});
    defer(t, browser.close);
    return browser;
  }

  test('the sign-in page names itself in the tab', async (t) => {
    const { page } = await browserFor(t);
    await page.goto(`${server.baseUrl}/`);
    await page.getByTestId('signin-form').waitFor();
    assert.equal(await page.title(), 'Sign in · Chute');
  });

  test('My files on a phone: a very long name wraps inside its card, and the page stays as wide as the screen', async (t) => {
    const user = await server.createUser();
    await store(server, user, 'short.txt');
    await store(server, user, LONG_NAME);
    const { page } = await browserFor(t, PHONE);
    await page.goto(`${server.baseUrl}/files`);
    await signIn(page, user);
    const row = page.locator(`[data-testid="file-row"][data-name="${LONG_NAME}"]`);
    await row.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'ux-phone-long-name.png'), fullPage: true });

    const width = await page.evaluate(() => inPage().document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width, `the page is ${width}px wide on a ${PHONE.width}px screen`);
    const name = await row.locator('th').evaluate((cell) => {
      const span = cell.querySelector('span')!;
      return { text: span.textContent, clipped: span.scrollWidth > span.clientWidth + 1 };
    });
    assert.equal(name.clipped, false, 'the whole name can be read on the card');
    for (const label of ['State', 'Size', 'Type', 'Uploaded']) {
      const box = await row.locator(`td[data-label="${label}"]`).boundingBox();
      assert.ok(
        box && box.x >= 0 && box.x + box.width <= PHONE.width,
        `${label} is on the screen: ${JSON.stringify(box)}`,
      );
    }

    // the same name in the upload list
    await page.getByRole('link', { name: 'Upload' }).click();
    await page.getByTestId('file-input').setInputFiles(fixture(LONG_NAME, Buffer.from('long\n')).path);
    const upload = page.locator(`[data-testid="upload-row"][data-name="${LONG_NAME}"][data-state="done"]`);
    await upload.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'ux-phone-long-upload.png'), fullPage: true });
    const clipped = await upload.locator('.upload__name').evaluate((span) => span.scrollWidth > span.clientWidth + 1);
    assert.equal(clipped, false, 'the whole name can be read in the upload list');
    assert.ok((await page.evaluate(() => inPage().document.documentElement.scrollWidth)) <= PHONE.width);
  });

  test('My files on a desktop: type, date and state are shown whole, last year with its year', async (t) => {
    const user = await server.createUser();
    const old = await store(server, user, 'last-year.docx');
    const lastYear = new Date();
    lastYear.setFullYear(lastYear.getFullYear() - 1, 8, 30);
    lastYear.setHours(12, 59);
    await server.app.chute.db
      .updateTable('chute_files')
      .set({ created_at: lastYear.toISOString(), upload_finished_at: lastYear.toISOString() })
      .where('id', '=', old.id)
      .execute();
    await store(server, user, 'manual.pdf');
    await startOnly(server, user, 'never-sent.pdf', 'application/pdf');
    const { page } = await browserFor(t);
    await page.goto(`${server.baseUrl}/files`);
    await signIn(page, user);
    await page.getByTestId('files-table').waitFor();
    await page.getByTestId('file-row').nth(2).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'ux-desktop-columns.png'), fullPage: true });

    const cells: Array<{ row: string; label: string; text: string; clipped: boolean }> = await page.evaluate(() =>
      Array.from(
        inPage().document.querySelectorAll('[data-testid="file-row"] td[data-label]'),
        (cell: {
          closest: (s: string) => { dataset: { name: string } };
          dataset: { label: string };
          textContent: string;
          scrollWidth: number;
          clientWidth: number;
        }) => ({
          row: cell.closest('tr').dataset.name,
          label: cell.dataset.label,
          text: cell.textContent,
          clipped: cell.scrollWidth > cell.clientWidth + 1,
        }),
      ),
    );
    assert.equal(cells.length, 12);
    for (const cell of cells) assert.equal(cell.clipped, false, `${cell.row}: ${cell.label} "${cell.text}" is cut off`);
    const uploaded = cells.find((cell) => cell.row === 'last-year.docx' && cell.label === 'Uploaded')!;
    assert.match(uploaded.text, new RegExp(String(lastYear.getFullYear())));
    assert.deepEqual(
      cells.filter((cell) => cell.label === 'Type').map((cell) => cell.text),
      ['PDF document', 'PDF document', 'Word document'],
    );
  });

  test('a session that ends while the app is open: the sign-in page says so, and signing in again brings the uploads back', async (t) => {
    const user = await server.createUser();
    const first = fixture('first.txt', Buffer.from('first\n'));
    const second = fixture('second.txt', Buffer.from('second\n'));
    const { page, context } = await browserFor(t);
    await page.goto(`${server.baseUrl}/`);
    await signIn(page, user);
    await page.getByTestId('file-input').setInputFiles(first.path);
    await page.locator('[data-testid="upload-row"][data-name="first.txt"][data-state="done"]').waitFor();

    // the session ends elsewhere (signed out on another tab, expired, revoked)
    const session = (await context.cookies()).find((cookie) => cookie.name === 'sessionid')!.value;
    const revoked = await fetch(`${server.baseUrl}/api/auth/logout/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}` },
    });
    assert.equal(revoked.status, 200);
    await page.getByTestId('file-input').setInputFiles(second.path);

    const notice = page.getByTestId('signin-notice');
    await notice.waitFor();
    assert.match(await notice.innerText(), /session has ended/i);
    assert.equal(await page.getByLabel('Email').inputValue(), user.email, 'the email is filled in');
    await page.screenshot({ path: join(ARTIFACTS, 'ux-session-ended.png'), fullPage: true });
    await assertAccessible(page, 'sign-in page after the session ended');

    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('current-user').waitFor();
    const firstRow = page.locator('[data-testid="upload-row"][data-name="first.txt"]');
    const secondRow = page.locator('[data-testid="upload-row"][data-name="second.txt"]');
    assert.equal(await firstRow.getAttribute('data-state'), 'done');
    assert.equal(await secondRow.getAttribute('data-state'), 'error');
    await secondRow.getByTestId('retry').click();
    await page.locator('[data-testid="upload-row"][data-name="second.txt"][data-state="done"]').waitFor();
  });

  test('signing out and in as someone else starts with an empty upload list', async (t) => {
    const alice = await server.createUser();
    const bob = await server.createUser();
    const note = fixture('alice-note.txt', Buffer.from('alice\n'));
    const { page, context } = await browserFor(t);
    await page.goto(`${server.baseUrl}/`);
    await signIn(page, alice);
    await page.getByTestId('file-input').setInputFiles(note.path);
    await page.locator('[data-testid="upload-row"][data-state="done"]').waitFor();
    const session = (await context.cookies()).find((cookie) => cookie.name === 'sessionid')!.value;
    await fetch(`${server.baseUrl}/api/auth/logout/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session}` },
    });
    await page.getByRole('link', { name: 'My files' }).click();
    await page.getByTestId('signin-notice').waitFor();
    await page.getByLabel('Email').fill(bob.email);
    await page.getByLabel('Password').fill(bob.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('current-user').waitFor();
    assert.equal(await page.getByTestId('current-user').innerText(), bob.email);
    await page.getByRole('link', { name: 'Upload' }).click();
    assert.equal(await page.getByTestId('upload-row').count(), 0, "alice's uploads are not shown to bob");
  });

  test('the page of My files is in the URL: reload and Back keep it, a link past the end shows the last page', async (t) => {
    const user = await server.createUser();
    for (let i = 1; i <= 21; i += 1) await store(server, user, `page-${String(i).padStart(2, '0')}.txt`);
    const { page } = await browserFor(t);
    await page.goto(`${server.baseUrl}/files`);
    await signIn(page, user);
    const range = (expected: string) =>
      page.waitForFunction((text) => inPage().document.querySelector('.pager span')?.textContent === text, expected);
    await range('1–20 of 21');
    await page.getByRole('button', { name: 'Next' }).click();
    await range('21–21 of 21');
    assert.equal(new URL(page.url()).search, '?offset=20');
    await page.reload();
    await range('21–21 of 21');
    await page.goBack();
    await range('1–20 of 21');
    assert.equal(new URL(page.url()).pathname, '/files');
    await page.goto(`${server.baseUrl}/files?offset=400`);
    await range('21–21 of 21');
    assert.equal(new URL(page.url()).search, '?offset=20');
  });

  test('deleting a file that was deleted meanwhile closes the dialog and drops the row (My files and the admin file page)', async (t) => {
    const user = await server.createUser({ staff: true });
    const mine = await store(server, user, 'deleted-elsewhere.txt');
    const theirs = await store(server, user, 'deleted-by-owner.txt');
    const remove = async (id: number) =>
      assert.equal(
        (await fetch(`${server.baseUrl}/api/files/${id}/`, { method: 'DELETE', headers: user.headers })).status,
        204,
      );
    const { page } = await browserFor(t);
    await page.goto(`${server.baseUrl}/files`);
    await signIn(page, user);
    const row = page.locator('[data-testid="file-row"][data-name="deleted-elsewhere.txt"]');
    await row.waitFor();
    await remove(mine.id);
    await row.getByTestId('delete').click();
    await page.getByTestId('confirm-delete').click();
    await row.waitFor({ state: 'detached' });
    assert.equal(
      await page.getByTestId('confirm-dialog').evaluate((dialog) => (dialog as HTMLDialogElement).open),
      false,
    );
    assert.match(await page.getByTestId('announcer').innerText(), /deleted-elsewhere\.txt was already deleted/);

    await page.goto(`${server.baseUrl}/admin/files/${theirs.id}`);
    await page.getByTestId('admin-file-page').waitFor();
    await remove(theirs.id);
    await page.getByTestId('admin-delete').click();
    await page.getByTestId('admin-confirm').getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('admin-files-table').or(page.getByTestId('admin-count')).first().waitFor();
    assert.match(await page.getByTestId('admin-message').innerText(), /deleted-by-owner\.txt was already deleted/);
  });

  test("a proxy's own error page (413, 502, 504 without Chute's JSON) is told in plain words, not as a bare HTTP status", async (t) => {
    const user = await server.createUser();
    const { page } = await browserFor(t);
    await page.goto(`${server.baseUrl}/`);
    await signIn(page, user);
    const nginx = (status: number, text: string) =>
      `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
    const failed = async (name: string) => {
      await page.getByTestId('file-input').setInputFiles(fixture(name, Buffer.from('proxy\n')).path);
      const row = page.locator(`[data-testid="upload-row"][data-name="${name}"][data-state="error"]`);
      await row.waitFor();
      return row.getByTestId('upload-error').innerText();
    };

    await page.route('**/api/files/upload/direct/local/**', (route) =>
      route.fulfill({ status: 413, contentType: 'text/html', body: nginx(413, 'Request Entity Too Large') }),
    );
    assert.equal(await failed('through-proxy-413.txt'), 'This file is larger than the size limit.');
    await page.unroute('**/api/files/upload/direct/local/**');

    await page.route('**/api/files/upload/direct/start/', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: nginx(502, 'Bad Gateway') }),
    );
    assert.equal(await failed('through-proxy-502.txt'), 'The server is unavailable right now. Try again later.');
    await page.unroute('**/api/files/upload/direct/start/');

    await page.route('**/api/files/?*', (route) =>
      route.fulfill({ status: 504, contentType: 'text/html', body: nginx(504, 'Gateway Time-out') }),
    );
    await page.getByRole('link', { name: 'My files' }).click();
    assert.equal(
      await page.getByTestId('files-error').innerText(),
      'The server is unavailable right now. Try again later.',
    );
  });

  test('the upload list with the keyboard: Cancel becomes Retry and back under the focus; Remove and Clear finished pass it on', async (t) => {
    const user = await server.createUser();
    const { page, context } = await browserFor(t);
    await page.goto(`${server.baseUrl}/`);
    await signIn(page, user);
    const files = ['one.txt', 'two.txt', 'three.txt'].map((name) => fixture(`keys-${name}`, Buffer.from(`${name}\n`)));
    const slow = fixture('keys-slow.bin', Buffer.alloc(4 * 1024 * 1024, 1));
    const row = (name: string) => page.locator(`[data-testid="upload-row"][data-name="${name}"]`);
    const rowIn = (name: string, state: string) =>
      page.locator(`[data-testid="upload-row"][data-name="${name}"][data-state="${state}"]`);

    const cdp = await context.newCDPSession(page);
    await throttleUpload(cdp, 128 * 1024);
    await page.getByTestId('file-input').setInputFiles(slow.path);
    await rowIn(slow.name, 'uploading').waitFor();
    await row(slow.name).getByTestId('cancel').focus();
    await page.keyboard.press('Enter');
    await rowIn(slow.name, 'cancelled').waitFor();
    assert.match(await activeElement(page), /^button Retry$/, 'Retry has the focus where Cancel was');
    await throttleUpload(cdp, null);
    await page.keyboard.press('Enter');
    await rowIn(slow.name, 'done').waitFor();

    await page.getByTestId('file-input').setInputFiles(files.map((f) => f.path));
    for (const f of files) await rowIn(f.name, 'done').waitFor();
    await row(files[0]!.name).getByTestId('remove').focus();
    await page.keyboard.press('Enter');
    await row(files[0]!.name).waitFor({ state: 'detached' });
    assert.equal(
      await page.evaluate(() => inPage().document.activeElement?.getAttribute('aria-label')),
      `Remove ${files[1]!.name} from the list`,
      'the next row has the focus',
    );
    await page.getByRole('button', { name: 'Clear finished' }).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('upload-row').first().waitFor({ state: 'detached' });
    assert.match(await activeElement(page), /^h1#upload-title Upload files$/);
  });

  for (const [list, viewport] of [
    ['My files', undefined],
    ['My files', PHONE],
    ['the admin file list', undefined],
  ] as const) {
    test(`paging ${list}${viewport ? ' on a phone' : ''} with the keyboard: the focus goes to the list's heading, in view`, async (t) => {
      const admin = list !== 'My files';
      const user = await server.createUser({ staff: admin });
      const total = admin ? 51 : 21;
      for (let i = 1; i <= total; i += 1) await store(server, user, `file-${String(i).padStart(2, '0')}.txt`);
      const { page } = await browserFor(t, viewport);
      await page.goto(server.baseUrl + (admin ? `/admin/files?uploaded_by=${user.id}` : '/files'));
      await signIn(page, user);
      const rows = page.getByTestId(admin ? 'admin-file-row' : 'file-row');
      await rows.nth(admin ? 49 : 19).waitFor();

      await page.getByRole('button', { name: 'Next' }).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        (expected) => inPage().document.querySelector('.pager span')?.textContent === expected,
        `${total}–${total} of ${total}`,
      );
      const focused = await activeElement(page);
      assert.match(focused, /^h1#\S+ (My files|Files)$/, `the focus is on the heading, not lost: ${focused}`);
      const inView = await page.evaluate(() => {
        const heading = inPage().document.activeElement.getBoundingClientRect();
        return heading.top >= 0 && heading.bottom <= inPage().innerHeight;
      });
      assert.ok(inView, 'the heading is scrolled into view');
      // and back
      await page.keyboard.press('Tab');
      await page.getByRole('button', { name: 'Previous' }).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        (expected) => inPage().document.querySelector('.pager span')?.textContent === expected,
        `1–${total - 1} of ${total}`,
      );
      assert.match(await activeElement(page), /^h1#/);

      if (list === 'My files') {
        await page.getByRole('button', { name: 'Refresh' }).focus();
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => inPage().document.querySelector('section[aria-busy="false"]'));
        assert.match(await activeElement(page), /^button Refresh$/, 'Refresh keeps the focus');
      }
    });
  }
});
