// The web app's assets from the bucket (a CDN's origin) instead of Chute: `chute static:publish`
// sends web/dist/assets to RGW, Chute starts with STATIC_URL at the bucket's public URL, and
// Chromium signs in, uploads and opens the admin with every script and style from the bucket's
// origin (as the browser's own requests show). A second publish sends nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freshBucket, s3CommandEnv, s3Settings, startTestServer } from '../helpers.js';
import { cleanupScope, ensureWebBuilt, launch, ROOT, S3_SKIP, signIn } from './support.js';

const run = promisify(execFile);

describe('the web app with its assets on a CDN (STATIC_URL)', { skip: S3_SKIP }, () => {
  const cleanup = cleanupScope();
  after(() => cleanup.run());

  test('pages load their scripts and styles from the bucket; sign-in, upload and the admin work; a second publish sends nothing', async () => {
    ensureWebBuilt();
    const s3 = s3Settings();
    // the page's scripts are CORS requests (crossorigin): the bucket answers them for any origin
    const bucket = await freshBucket(cleanup.scope, { corsOrigins: ['*'] });
    const env = s3CommandEnv(bucket, { AWS_DEFAULT_ACL: 'public-read' });
    const publish = async () =>
      (await run(process.execPath, ['bin/chute.js', 'static:publish'], { cwd: ROOT, env })).stdout;
    assert.match(await publish(), /\d+ sent, 0 already there/);

    const staticUrl = `${s3.endpoint}/${bucket}/static/`;
    const server = await startTestServer(cleanup.scope, {
      storage: 's3',
      env: {
        AWS_STORAGE_BUCKET_NAME: bucket,
        AWS_DEFAULT_ACL: 'public-read',
        STATIC_URL: staticUrl,
        FILE_MAX_SIZE: '64MiB',
      },
    });
    const staff = await server.createUser({ staff: true });
    const browser = await launch();
    cleanup.scope.after(() => browser.close());
    const { page } = browser;
    const assets: string[] = [];
    const failed: string[] = [];
    page.on('request', (request) => {
      if (/\/assets\/[^/]+\.(js|css)$/.test(new URL(request.url()).pathname)) assets.push(request.url());
    });
    page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
    page.on('pageerror', (error) => failed.push(String(error)));

    await page.goto(server.baseUrl);
    await signIn(page, staff);
    await page.getByTestId('file-input').setInputFiles({
      name: 'cdn note.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('uploaded from a page whose code came from the CDN\n'),
    });
    const done = async (name: string) => {
      const row = page.locator(`[data-testid="upload-row"][data-name="${name}"]`);
      await row.and(page.locator('[data-state="done"], [data-state="error"]')).waitFor({ timeout: 120_000 });
      assert.equal(await row.getAttribute('data-state'), 'done', await row.innerText());
    };
    await done('cdn note.txt');
    // a multipart upload: its checksums are computed in a Web Worker, which must come from the
    // page's own origin (browsers refuse a worker script from another one)
    await page.getByTestId('file-input').setInputFiles({
      name: 'big.bin',
      mimeType: 'application/octet-stream',
      buffer: randomBytes(33 * 2 ** 20),
    });
    await done('big.bin');
    const worker = assets.find((url) => url.includes('/checksums.worker-'));
    assert.ok(worker?.startsWith(`${server.baseUrl}/assets/`), `the worker from Chute: ${worker}`);

    // the admin's own chunk is loaded on demand, from beside the page's script
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    await page.getByTestId('admin-count').getByText('2 files').waitFor();

    assert.deepEqual(failed, [], 'no request failed and no script error');
    const scripts = assets.filter((url) => url.endsWith('.js'));
    assert.ok(
      scripts.some((url) => /\/index-[^/]+\.js$/.test(url)),
      `the app's script: ${assets.join(', ')}`,
    );
    assert.ok(
      scripts.some((url) => /\/AdminApp-[^/]+\.js$/.test(url)),
      `the admin's script: ${assets.join(', ')}`,
    );
    assert.ok(
      assets.some((url) => /\/AdminApp-[^/]+\.css$/.test(url)),
      `the admin's stylesheet: ${assets.join(', ')}`,
    );
    for (const url of assets.filter((url) => url !== worker))
      assert.ok(url.startsWith(staticUrl), `${url} comes from the bucket`);

    assert.match(await publish(), /nothing to send: all \d+ assets are already in s3:\/\//);
  });
});
