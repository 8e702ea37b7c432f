// An uploaded file must never run as a page on Chute's origin (nor on the bucket's). Files with an
// inline script (HTML, SVG, and HTML disguised under a harmless type) are uploaded to local
// storage and to RGW, and their file URLs opened in Chromium: the script would set the title and call a recording server. The same
// markup served plainly by the recording server does run it, so the check can tell.
//
//   npm test -- --browser test/browser/active-content.browser.test.ts
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { defer, postForm, startTestServer, type TestServer, type TestUser } from '../helpers.js';
import { cleanupScope, launch } from './support.js';

declare function inPage(): any;

/** Records the script's requests; `/control` answers `body` as a plain, script-running page. */
async function recorder(scope: ReturnType<typeof cleanupScope>['scope'], body: () => string) {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    if (request.url === '/control') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(body());
      return;
    }
    if (request.url?.startsWith('/hit/')) hits.push(request.url); // not the browser's own /favicon.ico
    response.writeHead(204, { 'access-control-allow-origin': '*' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** start -> upload (to Chute, or the presigned POST to RGW) -> finish over HTTP; the finished record's file URL. */
async function upload(
  server: TestServer,
  user: TestUser,
  name: string,
  type: string,
  content: string,
): Promise<string> {
  const call = async (path: string, init: RequestInit) => {
    const response = await fetch(`${server.baseUrl}${path}`, {
      ...init,
      headers: { ...user.headers, ...init.headers },
    });
    const body = (await response.json()) as Record<string, unknown>;
    assert.ok(response.ok, `${path}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  };
  const json = { 'content-type': 'application/json' };
  const started = await call('/api/files/upload/direct/start/', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ file_name: name, file_type: type }),
  });
  if (server.app.chute.config.storage === 's3') {
    const posted = await postForm(started.url as string, started.fields as Record<string, string>, {
      name,
      content: Buffer.from(content),
      type,
    });
    assert.equal(posted.status, 204, await posted.text());
  } else {
    const form = new FormData();
    form.append('file', new Blob([content], { type }), name);
    await call(new URL(started.url as string).pathname, { method: 'POST', body: form });
  }
  const finished = await call('/api/files/upload/direct/finish/', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ file_id: started.id }),
  });
  assert.equal(finished.is_valid, true);
  return finished.url as string;
}

/** Opening `url` downloads the file under its own name with the upload's bytes; the page stays where it was. */
async function expectDownload(
  page: Awaited<ReturnType<typeof launch>>['page'],
  url: string,
  name: string,
  content: string,
) {
  await page.goto('about:blank');
  const downloaded = page.waitForEvent('download');
  await page.goto(url).catch(() => undefined); // a download aborts the navigation
  const download = await downloaded;
  assert.equal(download.suggestedFilename(), name, `${name} arrives as a download with its own name`);
  assert.equal(readFileSync((await download.path())!, 'utf8'), content, `${name}: the bytes are the upload's`);
  assert.equal(page.url(), 'about:blank', `${name} did not replace the page`);
}

describe('uploaded files with scripts, opened from their local file URLs', { timeout: 5 * 60_000 }, () => {
  test('HTML and SVG download instead of rendering; disguised HTML renders as inert text or image; no script runs', async (t) => {
    const cleanup = cleanupScope();
    defer(t, cleanup.run);
    let markup = '';
    const marker = await recorder(cleanup.scope, () => markup);
    // what the script does when it runs: a title, and two requests to the recorder
    const script = `document.title = 'SCRIPT RAN'; fetch('${marker.origin}/hit/fetch', { mode: 'no-cors' }); new Image().src = '${marker.origin}/hit/image';`;
    markup = `<!doctype html><html><head><title>harmless</title></head><body><p>hello</p><script>${script}</script></body></html>`;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script><![CDATA[${script}]]></script><rect width="10" height="10"/></svg>`;

    // The headers are the defence for markup that no content check refused (FILE_VERIFY_CONTENT=false,
    // or files stored before it): the check is off here so HTML can be stored as image/png at all.
    const server = await startTestServer(cleanup.scope, { storage: 'local', env: { FILE_VERIFY_CONTENT: 'false' } });
    const user = await server.createUser();
    const browser = await launch({ acceptDownloads: true });
    cleanup.scope.after(browser.close);
    const { page } = browser;

    // the control: the same markup, served as a page, does run (title set, recorder called)
    await page.goto(`${marker.origin}/control`);
    await page.waitForFunction(() => inPage().document.title === 'SCRIPT RAN');
    for (let i = 0; i < 50 && marker.hits.length < 2; i += 1) await sleep(50);
    assert.deepEqual([...marker.hits].sort(), ['/hit/fetch', '/hit/image'], 'the marker works when the script runs');
    marker.hits.length = 0;

    // active types: the browser downloads them; nothing is rendered or run
    for (const [name, type, content] of [
      ['page.html', 'text/html', markup],
      ['drawing.svg', 'image/svg+xml', svg],
    ] as const) {
      const url = await upload(server, user, name, type, content);
      await expectDownload(page, url, name, content);
    }

    // HTML under a harmless declared type: shown as that type (nosniff), sandboxed, script inert
    for (const [name, type, check] of [
      ['notes.html', 'text/plain', 'text'],
      ['picture.png', 'image/png', 'image'],
    ] as const) {
      const url = await upload(server, user, name, type, markup);
      const response = await page.goto(url);
      assert.equal(response?.status(), 200);
      const headers = response!.headers();
      assert.equal(headers['content-type'], type);
      assert.equal(headers['x-content-type-options'], 'nosniff');
      assert.match(headers['content-security-policy'] ?? '', /sandbox/);
      if (check === 'text') {
        assert.ok(
          (await page.evaluate(() => inPage().document.body.innerText as string)).includes('<script>'),
          'the markup is shown as text',
        );
      } else {
        assert.equal(
          await page.evaluate(() => inPage().document.querySelectorAll('img').length),
          1,
          'shown as a (broken) image',
        );
      }
      assert.notEqual(await page.title(), 'SCRIPT RAN', `${name}: the script did not run`);
    }

    await sleep(500); // time for any stray request to reach the recorder
    assert.deepEqual(marker.hits, [], 'no uploaded file ran its script');
  });

  // S3 answers with the object's (or the presigned GET's) headers only: no nosniff, no CSP
  for (const acl of ['private', 'public-read'] as const) {
    test(`from S3 (RGW, ${acl}): HTML, SVG and an unknown type download from their presigned URLs; no script runs`, async (t) => {
      const cleanup = cleanupScope();
      defer(t, cleanup.run);
      const marker = await recorder(cleanup.scope, () => '');
      const script = `document.title = 'SCRIPT RAN'; fetch('${marker.origin}/hit/fetch', { mode: 'no-cors' }); new Image().src = '${marker.origin}/hit/image';`;
      const markup = `<!doctype html><html><head><title>harmless</title></head><body><p>hello</p><script>${script}</script></body></html>`;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script><![CDATA[${script}]]></script><rect width="10" height="10"/></svg>`;

      const server = await startTestServer(cleanup.scope, { storage: 's3', env: { AWS_DEFAULT_ACL: acl } });
      const user = await server.createUser();
      const browser = await launch({ acceptDownloads: true });
      cleanup.scope.after(browser.close);
      const { page } = browser;

      for (const [name, type, content] of [
        ['page.html', 'text/html', markup],
        ['drawing.svg', 'image/svg+xml', svg],
        ['page.data', 'application/x-unknown', markup],
      ] as const) {
        const url = await upload(server, user, name, type, content);
        assert.match(url, /X-Amz-Signature=/, `${name}: a presigned GET, whatever the ACL`);
        await expectDownload(page, url, name, content);
      }

      // HTML declared as plain text is shown as text (browsers do not sniff text/plain into HTML)
      const url = await upload(server, user, 'notes.txt', 'text/plain', markup);
      const response = await page.goto(url);
      assert.equal(response?.status(), 200);
      assert.ok(
        (await page.evaluate(() => inPage().document.body.innerText as string)).includes('<script>'),
        'the markup is shown as text',
      );
      assert.notEqual(await page.title(), 'SCRIPT RAN');

      await sleep(500); // time for any stray request to reach the recorder
      assert.deepEqual(marker.hits, [], 'no uploaded file ran its script');
    });
  }
});
