// examples/express in Chromium, as its user sees it: log in on its page (the app's own login),
// pick a file, see it listed; the listed link gives the same bytes back; another user of the app
// sees none of it. On local storage and on RGW (the page POSTs straight to the bucket).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startExample } from '../../examples/express/app.js';
import { defer, freePort, freshDatabase } from '../helpers.js';
import { storageOption } from '../server/suite.js';
import { launch, S3_SKIP } from './support.js';

async function logIn(page: Page, email: string, password: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  // the login hashes with scrypt: wait for its answer, then for the page it shows
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/login')),
    page.getByRole('button', { name: 'Log in' }).click(),
  ]);
  await page.getByText('Logged in as').waitFor();
}

for (const kind of ['local', 's3'] as const) {
  describe(`examples/express in Chromium (${kind})`, { skip: kind === 's3' && S3_SKIP }, () => {
    test('a user logs in, uploads a file and finds it in their list; another user does not', async (t) => {
      const port = await freePort();
      const origin = `http://localhost:${port}`;
      const app = await startExample({
        port,
        database: await freshDatabase(t),
        storage: await storageOption(t, kind, { corsOrigins: [origin] }),
      });
      defer(t, () => app.close());
      const browser = await launch();
      defer(t, () => browser.close());
      const { page } = browser;

      await page.goto(`${origin}/`);
      await logIn(page, 'ada@example.com', 'ada-password');
      const content = Buffer.concat([Buffer.from('quarterly numbers\n'), randomBytes(200 * 1024)]);
      await page
        .getByLabel('Upload a file')
        .setInputFiles({ name: 'q3 report.txt', mimeType: 'text/plain', buffer: content });
      await page
        .getByRole('status')
        .filter({ hasText: /^Upload(ed|\s+failed)/ })
        .waitFor();
      assert.equal(await page.getByRole('status').textContent(), 'Uploaded q3 report.txt.');

      const link = page.getByRole('link', { name: 'q3 report.txt' });
      await link.waitFor();
      const href = await link.getAttribute('href');
      assert.ok(href);
      const download = await fetch(new URL(href, origin));
      assert.equal(download.status, 200);
      assert.ok(Buffer.from(await download.arrayBuffer()).equals(content), 'the stored bytes differ');

      await page.getByRole('button', { name: 'Log out' }).click();
      await logIn(page, 'bob@example.com', 'bob-password');
      // the page shows a user's files before it shows them logged in
      assert.equal(await page.locator('#who').textContent(), 'Bob');
      assert.equal(await page.getByRole('listitem').count(), 0);
    });
  });
}
