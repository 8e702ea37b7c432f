// `chute s3:setup` against RGW: a bare bucket becomes usable by the browser flow, and a second
// run changes nothing. What the storage answers a preflight is the proof, not our own reading.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import {
  DeleteBucketCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  PutBucketCorsCommand,
} from '@aws-sdk/client-s3';
import { CORS_RULE_ID, LIFECYCLE_RULE_ID, s3Setup, type S3SetupOptions } from '../../src/ops/s3-setup.js';
import { defer, freshBucket, s3CommandEnv, s3Settings, testS3Client } from '../helpers.js';

const APP = 'https://app.example.com';
const OTHER = 'https://other.example.com';

/** What a browser sends before a cross-origin POST of the upload form to the bucket. */
async function preflight(bucket: string, origin: string, method = 'POST') {
  const response = await fetch(`${s3Settings().endpoint}/${bucket}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method },
  });
  // the body names the storage's reason when a status is not the expected one
  return { status: response.status, headers: response.headers, body: await response.text() };
}

describe('chute s3:setup', () => {
  test('a bare bucket gets CORS for the app origins and the abort-incomplete-multipart rule; a second run changes nothing', async (t) => {
    const bucket = await freshBucket(t);
    const client = testS3Client();
    defer(t, () => client.destroy());
    const options: S3SetupOptions = {
      client,
      bucket,
      region: 'us-east-1',
      origins: [APP, OTHER],
      createBucket: false,
      dryRun: false,
      abortIncompleteDays: 7,
    };

    const refusedBefore = await preflight(bucket, APP);
    assert.equal(refusedBefore.status, 403, `no CORS before setup: ${refusedBefore.body}`);

    const first = await s3Setup(options);
    assert.equal(first.bucket.outcome, 'exists');
    assert.equal(first.cors.outcome, 'created');
    assert.equal(first.lifecycle.outcome, 'created');
    assert.equal(first.changed, true);

    const cors = await client.send(new GetBucketCorsCommand({ Bucket: bucket }));
    const rule = cors.CORSRules!.find((r) => r.ID === CORS_RULE_ID)!;
    assert.deepEqual([...rule.AllowedMethods!].sort(), ['GET', 'HEAD', 'POST', 'PUT']);
    assert.deepEqual(rule.AllowedOrigins, [APP, OTHER]);
    assert.deepEqual(rule.AllowedHeaders, ['*']);
    assert.deepEqual(rule.ExposeHeaders, ['ETag', 'Location']);
    const lifecycle = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    const abort = lifecycle.Rules!.find((r) => r.ID === LIFECYCLE_RULE_ID)!;
    assert.equal(abort.Status, 'Enabled');
    assert.equal(abort.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 7);

    const second = await s3Setup(options);
    assert.deepEqual(
      [second.cors.outcome, second.lifecycle.outcome, second.changed],
      ['unchanged', 'unchanged', false],
    );

    for (const method of ['POST', 'PUT', 'GET']) {
      const allowed = await preflight(bucket, APP, method);
      assert.equal(allowed.status, 200, `${method}: ${allowed.body}`);
      assert.equal(allowed.headers.get('access-control-allow-origin'), APP);
      assert.match(allowed.headers.get('access-control-allow-methods') ?? '', new RegExp(method));
    }
    const stranger = await preflight(bucket, 'https://evil.example.com');
    assert.equal(stranger.status, 403, stranger.body);
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);

    const changedDays = await s3Setup({ ...options, abortIncompleteDays: 3 });
    assert.deepEqual([changedDays.cors.outcome, changedDays.lifecycle.outcome], ['unchanged', 'updated']);
  });

  test("rules of others are kept, and Chute's rule goes first", async (t) => {
    const bucket = await freshBucket(t);
    const client = testS3Client();
    defer(t, () => client.destroy());
    const foreign = {
      ID: 'cdn',
      AllowedOrigins: ['https://cdn.example.com'],
      AllowedMethods: ['GET'],
      AllowedHeaders: [],
      ExposeHeaders: [],
    };
    await client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [foreign] } }));
    const report = await s3Setup({
      client,
      bucket,
      region: 'us-east-1',
      origins: [APP],
      createBucket: false,
      dryRun: false,
      abortIncompleteDays: 0,
    });
    assert.equal(report.lifecycle.outcome, 'skipped');
    const rules = (await client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules!;
    assert.deepEqual(
      rules.map((r) => r.ID),
      [CORS_RULE_ID, 'cdn'],
    );
    assert.equal((await preflight(bucket, 'https://cdn.example.com', 'GET')).status, 200);
  });

  test('the CLI: a missing bucket needs --create-bucket; --dry-run prints the JSON and writes nothing; then it applies, then nothing to change', async (t) => {
    const bucket = `chute-t-setup-${randomBytes(5).toString('hex')}`;
    const client = testS3Client();
    defer(t, async () => {
      await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      client.destroy();
    });
    const env = s3CommandEnv(bucket, { APP_DOMAIN: `${APP}/`, CORS_ALLOWED_ORIGINS: OTHER });
    const run = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      promisify(execFile)(process.execPath, ['bin/chute.js', 's3:setup', ...args], { env }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    const missing = await run();
    assert.equal(missing.code, 1, `${missing.stdout}\n${missing.stderr}`);
    assert.match(missing.stderr, /does not exist.*--create-bucket/);

    const dry = await run('--create-bucket', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout);
    assert.equal(plan.bucket.outcome, 'would create');
    assert.deepEqual(plan.cors.CORSConfiguration.CORSRules[0].AllowedOrigins, [APP, OTHER]);
    assert.equal(plan.lifecycle.LifecycleConfiguration.Rules[0].AbortIncompleteMultipartUpload.DaysAfterInitiation, 7);
    const stillMissing = await run();
    assert.equal(stillMissing.code, 1, `the dry run created nothing: ${stillMissing.stdout}\n${stillMissing.stderr}`);

    const applied = await run('--create-bucket', '--abort-incomplete-days', '2');
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, new RegExp(`bucket ${bucket}: created`));
    assert.match(
      applied.stdout,
      /cors: created .*POST, PUT, GET, HEAD from https:\/\/app\.example\.com, https:\/\/other\.example\.com/,
    );
    assert.match(applied.stdout, /lifecycle: created .*after 2 days/);
    assert.equal((await preflight(bucket, APP)).status, 200);

    const again = await run('--create-bucket', '--abort-incomplete-days', '2');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /cors: unchanged/);
    assert.match(again.stdout, /lifecycle: unchanged/);
    assert.match(again.stdout, /nothing to change\n$/);
  });
});
