// `chute static:publish` against RGW: the built assets land under STATIC_PREFIX with the headers a
// CDN serves them with, readable at the bucket's public URL; a second run sends nothing; a changed
// file is sent again; --dry-run sends nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { publishStatic, STATIC_CACHE_CONTROL } from '../../src/ops/static-publish.js';
import { defer, freshBucket, s3CommandEnv, s3Settings, testS3Client } from '../helpers.js';

const run = promisify(execFile);

async function assetsDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chute-assets-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'index-abc123.js'), 'console.log("app")');
  await writeFile(join(dir, 'index-def456.css'), 'body { color: red }');
  return dir;
}

describe('chute static:publish', () => {
  test('sends each asset once, with its type and immutable caching; sends a changed one again', async (t) => {
    const bucket = await freshBucket(t);
    const client = testS3Client();
    const dir = await assetsDir(t);
    const publish = (dryRun = false) =>
      publishStatic({ client, bucket, prefix: 'static/', acl: 'public-read', assetsDir: dir, dryRun });

    const dry = await publish(true);
    assert.deepEqual(
      dry.map((asset) => asset.outcome),
      ['would send', 'would send'],
    );
    await assert.rejects(
      client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'static/assets/index-abc123.js' })),
      (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode === 404,
      'a dry run sends nothing',
    );

    const first = await publish();
    assert.deepEqual(
      first.map((asset) => [asset.key, asset.outcome]),
      [
        ['static/assets/index-abc123.js', 'sent'],
        ['static/assets/index-def456.css', 'sent'],
      ],
    );
    // public-read: what a browser (or a CDN without credentials) gets at the bucket's URL
    for (const [key, type, body] of [
      ['static/assets/index-abc123.js', /^(text|application)\/javascript/, 'console.log("app")'],
      ['static/assets/index-def456.css', /^text\/css/, 'body { color: red }'],
    ] as const) {
      const response = await fetch(`${s3Settings().endpoint}/${bucket}/${key}`);
      assert.equal(response.status, 200, key);
      assert.match(String(response.headers.get('content-type')), type);
      assert.equal(response.headers.get('cache-control'), STATIC_CACHE_CONTROL);
      assert.equal(await response.text(), body);
    }

    assert.deepEqual(
      (await publish()).map((asset) => asset.outcome),
      ['unchanged', 'unchanged'],
    );
    await writeFile(join(dir, 'index-def456.css'), 'body { color: blue }');
    assert.deepEqual(
      (await publish()).map((asset) => asset.outcome),
      ['unchanged', 'sent'],
    );
  });

  test('the command says what it sent, and on a second run that nothing was sent', async (t) => {
    const bucket = await freshBucket(t);
    const env = s3CommandEnv(bucket, { STATIC_PREFIX: 'web/' });
    const chute = (...args: string[]) => run(process.execPath, ['bin/chute.js', 'static:publish', ...args], { env });
    const first = await chute();
    assert.match(first.stdout, /^sent +web\/assets\/index-\S+\.js \(\d+ bytes\)$/m);
    assert.match(first.stdout, /\d+ sent, 0 already there, in s3:\/\/\S+\/web\/assets\//);
    const second = await chute();
    assert.match(second.stdout, /nothing to send: all \d+ assets are already in s3:\/\//);
    assert.doesNotMatch(second.stdout, /^sent/m);
    const dry = await chute('--dry-run');
    assert.match(dry.stdout, /dry run: 0 to send, \d+ already there/);
  });

  test('without S3 settings it says what it needs', async () => {
    const env = { ...process.env, FILE_UPLOAD_STORAGE: 'local' };
    await assert.rejects(
      run(process.execPath, ['bin/chute.js', 'static:publish'], { env }),
      (error: { stderr: string; code: number }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr, /static:publish needs FILE_UPLOAD_STORAGE=s3/);
        return true;
      },
    );
  });
});
