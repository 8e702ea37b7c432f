// Chromium on a bucket that only `chute s3:setup --create-bucket` prepared: a new bucket name, no
// CORS put by the test, Chute configured as an operator would (APP_DOMAIN and CORS_ALLOWED_ORIGINS
// the page's origin). The web app uploads a small file (presigned POST) and one past the multipart
// threshold (part PUTs, whose ETag the page must read); both become valid and download intact.
//
//   npm test -- --browser test/browser/s3-setup.browser.test.ts      (needs an S3 server: RGW)
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import type { Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createUser, defer, freePort, listKeys, testEnv, testS3Client } from '../helpers.js';
import { runCli } from '../reliability/process-harness.js';
import { cleanupScope, ensureWebBuilt, launch, S3_SKIP, sha256InPage, signIn } from './support.js';

declare function inPage(): any;

const MiB = 1024 * 1024;
const ROW = (name: string) => `[data-testid="upload-row"][data-name="${name}"]`;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function rowState(page: Page, name: string): Promise<{ state: string | null; text: string }> {
  await page.waitForFunction(
    (selector) =>
      ['done', 'error', 'cancelled'].includes(
        inPage().document.querySelector(selector)?.getAttribute('data-state') ?? '',
      ),
    ROW(name),
    { timeout: 180_000, polling: 200 },
  );
  const row = page.locator(ROW(name));
  return { state: await row.getAttribute('data-state'), text: (await row.innerText()).replace(/\s+/g, ' ') };
}

/** The bucket and whatever is in it, removed after the test (it was made by s3:setup, not by helpers). */
function removeBucketAfter(scope: ReturnType<typeof cleanupScope>['scope'], bucket: string) {
  scope.after(async () => {
    const client = testS3Client();
    try {
      const keys = await listKeys(client, bucket);
      if (keys.length)
        await client.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
        );
      const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      for (const upload of open.Uploads ?? [])
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key!, UploadId: upload.UploadId! }),
        );
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'NoSuchBucket') throw error;
    } finally {
      client.destroy();
    }
  });
}

describe('a bucket prepared only by `chute s3:setup`', { skip: S3_SKIP, timeout: 10 * 60_000 }, () => {
  test('the web app uploads to it from the browser, small (POST) and large (parts), and the files download intact', async (t) => {
    ensureWebBuilt();
    const cleanup = cleanupScope();
    defer(t, cleanup.run);
    const files = mkdtempSync(join(tmpdir(), 'chute-setup-files-'));
    cleanup.scope.after(() => rmSync(files, { recursive: true, force: true }));
    const fixtures = [
      { name: 'note.txt', content: Buffer.from('Uploaded to a bucket set up by chute s3:setup.\n'.repeat(50)) },
      { name: 'large-33mb.bin', content: randomBytes(33 * MiB) }, // past the client's 32 MiB multipart threshold
    ].map((file) => ({ ...file, path: join(files, file.name), sha256: sha256(file.content) }));
    for (const file of fixtures) writeFileSync(file.path, file.content);

    const bucket = `chute-setup-${randomBytes(5).toString('hex')}`;
    const s3 = testS3Client();
    cleanup.scope.after(() => s3.destroy());
    await assert.rejects(
      s3.send(new HeadBucketCommand({ Bucket: bucket })),
      'the bucket does not exist before s3:setup',
    );
    removeBucketAfter(cleanup.scope, bucket);

    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env = await testEnv(cleanup.scope, {
      storage: 's3',
      env: {
        AWS_STORAGE_BUCKET_NAME: bucket,
        APP_DOMAIN: origin,
        CORS_ALLOWED_ORIGINS: origin,
        FILE_MAX_SIZE: '64MiB',
      },
    });
    const report = await runCli(env, ['s3:setup', '--create-bucket']);
    assert.match(report, new RegExp(`bucket ${bucket}: created`), report);
    assert.match(report, /cors: created/, report);

    const app = await buildApp({ config: loadConfig(env) });
    cleanup.scope.after(() => app.close());
    await app.listen({ host: '127.0.0.1', port });
    const user = await createUser(app);

    const browser = await launch();
    cleanup.scope.after(browser.close);
    const { page } = browser;
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    const toBucket: string[] = [];
    page.on('requestfinished', (request) => {
      const url = new URL(request.url());
      if (url.origin === new URL(process.env.S3_ENDPOINT!).origin)
        toBucket.push(`${request.method()}${url.searchParams.has('partNumber') ? ' part' : ''}`);
    });
    await page.goto(origin);
    await signIn(page, user);
    await page.getByTestId('file-input').setInputFiles(fixtures.map((file) => file.path));
    for (const file of fixtures) {
      const outcome = await rowState(page, file.name);
      assert.equal(outcome.state, 'done', `${file.name}: ${outcome.text}`);
    }

    assert.ok(toBucket.includes('POST'), `the small file went by presigned POST: ${toBucket.join(', ')}`);
    assert.ok(
      toBucket.filter((request) => request === 'PUT part').length >= 2,
      `the large one in parts: ${toBucket.join(', ')}`,
    );

    // the records are valid, and each download link (a presigned GET to the bucket) gives the same bytes
    const results: Array<{ original_file_name: string; is_valid: boolean; file_size: number; url: string }> =
      await page.evaluate(async () => {
        const response = await fetch('/api/files/', { headers: { Accept: 'application/json' } });
        return (await response.json()).results;
      });
    for (const file of fixtures) {
      const record = results.find((result) => result.original_file_name === file.name);
      assert.ok(record, `${file.name} is listed`);
      assert.equal(record.is_valid, true);
      assert.equal(record.file_size, file.content.length);
      assert.ok(
        record.url.startsWith(process.env.S3_ENDPOINT!),
        `${file.name} downloads from the bucket: ${record.url}`,
      );
      assert.equal(
        await sha256InPage(page, record.url),
        file.sha256,
        `${file.name}: the browser downloads the same bytes`,
      );
    }

    // what made it work is s3:setup's rule and nothing else
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.deepEqual(
      cors.CORSRules?.map((rule) => [rule.ID, rule.AllowedOrigins]),
      [['chute-browser-upload', [origin]]],
    );
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  });
});
