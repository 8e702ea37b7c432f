// End-to-end: the admin's Webhooks page (/admin/webhooks) of the built web app, served by a real
// Chute that sends its events to a real receiver, driven in Debian's Chromium through
// playwright-core. A receiver answering 400 makes a delivery fail; staff see it failed on the
// page, fix the receiver and press "Send again", and the page shows it delivered. Without
// WEBHOOK_URLS the page says webhooks are off. Local storage only: the page does not touch files.
//
//   node scripts/run-tests.mjs --browser test/browser/admin-webhooks.browser.test.ts
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium), CHUTE_WEB_BUILT=1 never rebuilds web/dist.
// Screenshots go to test-artifacts/webhooks-*.png.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { startReceiver } from '../events/receiver.js';
import { apiCall, multipart, startTestServer, type TestServer, type TestUser } from '../helpers.js';
import { artifactsFor, assertAccessible, type Browser, ensureWebBuilt, launch, signIn } from './support.js';

ensureWebBuilt();
const ARTIFACTS = artifactsFor('webhooks');
const ROW = (eventId: string) => `[data-testid="webhook-row"][data-event="${eventId}"]`;

declare function inPage(): any;

const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `webhooks-${name}.png`), fullPage: true });

/** A standard upload over real HTTP, as an app's backend would make it: one file.finished event. */
async function upload(server: TestServer, user: TestUser) {
  const form = multipart({ name: 'notes.txt', content: 'the content of notes.txt', type: 'text/plain' });
  const response = await fetch(`${server.baseUrl}/api/files/upload/standard/`, {
    method: 'POST',
    headers: { ...user.headers, ...form.headers },
    body: new Uint8Array(form.payload),
  });
  assert.equal(response.status, 201, await response.text());
}

/** The newest delivery once it is `state` (through the API, as staff). */
async function deliveryIn(server: TestServer, staff: TestUser, state: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await apiCall(server, staff, 'GET', '/api/admin/webhooks/deliveries/');
    assert.equal(status, 200);
    if (body.results[0]?.state === state) return body.results[0];
    if (Date.now() > deadline) throw new Error(`no ${state} delivery within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

async function openWebhooks(page: Page, server: TestServer, staff: TestUser) {
  await page.goto(`${server.baseUrl}/admin/webhooks`);
  await signIn(page, staff);
  await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  const link = page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Webhooks' });
  assert.equal(await link.getAttribute('aria-current'), 'page');
  assert.equal(await page.title(), 'Webhooks · Admin · Chute');
}

async function assertNoSidewaysScroll(page: Page, what: string) {
  const overflow = await page.evaluate(() => {
    const root = inPage().document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
  assert.ok(overflow <= 0, `${what}: no horizontal overflow (${overflow}px)`);
}

describe('admin webhooks page', { timeout: 5 * 60_000 }, () => {
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async () => {
    browser = await launch({ viewport: { width: 1280, height: 860 } });
    browser.page.on('pageerror', (error) => pageErrors.push(String(error)));
  });
  // every test has its own server on 127.0.0.1, and cookies do not tell ports apart
  beforeEach(() => browser.context.clearCookies());
  after(() => browser?.close());

  test('a failed delivery shows as failed; "Send again" once the receiver is fixed delivers it', async (t) => {
    const receiver = await startReceiver(t);
    receiver.answer(400);
    const server = await startTestServer(t, {
      env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: receiver.secret },
    });
    const staff = await server.createUser({ staff: true });
    await upload(server, staff);
    const failed = await deliveryIn(server, staff, 'failed');

    const { page } = browser;
    await openWebhooks(page, server, staff);
    assert.match(await page.getByTestId('webhook-endpoints').innerText(), new RegExp(receiver.url));
    const row = page.locator(ROW(failed.event_id));
    await row.waitFor();
    assert.equal(await row.getAttribute('data-state'), 'failed');
    const text = await row.innerText();
    for (const part of ['file.finished', failed.event_id, receiver.url, 'Failed', 'HTTP 400'])
      assert.ok(text.includes(part), `the row shows ${part}: ${text}`);
    assert.equal(await row.getByTestId('webhook-answer').innerText(), 'HTTP 400');
    await screenshot(page, 'failed');
    await assertAccessible(page, 'webhooks page');

    // the filter: only waiting ones (none), then only failed ones (this one)
    await page.getByTestId('webhook-state').selectOption({ label: 'Waiting' });
    await page.getByTestId('webhook-count').getByText('No deliveries match.').waitFor();
    await page.getByTestId('webhook-state').selectOption({ label: 'Failed' });
    await row.waitFor();

    receiver.answer(204);
    await row.getByRole('button', { name: `Send again: file.finished ${failed.event_id} to ${receiver.url}` }).click();
    const [arrived] = await receiver.waitFor(1);
    assert.equal(arrived!.id, failed.event_id, 'the same event, under its webhook-id');
    assert.ok(arrived!.verified);

    // the page follows the resend by itself (no Refresh pressed): gone from "Failed", delivered in "All"
    await page.getByTestId('admin-message').getByText(`Delivered: file.finished ${failed.event_id}`).waitFor();
    await page.getByTestId('announcer').getByText(`Delivered: file.finished ${failed.event_id}`).waitFor();
    await page.getByTestId('webhook-count').getByText('No deliveries match.').waitFor();
    await page.getByTestId('webhook-state').selectOption({ label: 'All' });
    await page.locator(`${ROW(failed.event_id)}[data-state="delivered"]`).waitFor();
    assert.match(await row.innerText(), /Delivered/);
    assert.equal(await row.getByTestId('webhook-answer').innerText(), 'HTTP 204');
    await screenshot(page, 'delivered');
    await assertAccessible(page, 'webhooks page after a resend');

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('section[aria-busy="false"]').waitFor();
    assert.equal(await page.getByTestId('webhook-row').count(), 1);

    await page.setViewportSize({ width: 360, height: 740 });
    try {
      await assertNoSidewaysScroll(page, 'webhooks on a phone');
      await screenshot(page, 'narrow');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  test('with WEBHOOK_URLS unset, the page says webhooks are off', async (t) => {
    const server = await startTestServer(t);
    const staff = await server.createUser({ staff: true });
    const { page } = browser;
    await openWebhooks(page, server, staff);
    const off = page.getByTestId('webhooks-off');
    await off.waitFor();
    assert.match(await off.innerText(), /Webhooks are off.*WEBHOOK_URLS and WEBHOOK_SECRET/);
    await page.getByTestId('webhook-count').getByText('No deliveries yet.').waitFor();
    assert.equal(await page.getByTestId('webhook-endpoints').count(), 0);
    await assertAccessible(page, 'webhooks page, webhooks off');
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });
});
