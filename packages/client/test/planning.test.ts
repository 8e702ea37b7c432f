// Part planning, retry classification and backoff, resume stores and fingerprints: the pure parts
// of multipart uploads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UploadControl } from '../src/control.js';
import { AbortError, ChuteApiError, NetworkError, StorageError, StorageUnreachableError } from '../src/errors.js';
import { defaultPartSize, MULTIPART_THRESHOLD, planParts } from '../src/multipart.js';
import { base64ToHex, defaultResumeStore, fingerprint, memoryResumeStore } from '../src/resume.js';
import { backoff, isRetryable, withRetry, type RetryInfo } from '../src/retry.js';

const MiB = 2 ** 20;
const GiB = 1024 * MiB;

test('part size: 8 MiB, growing past 78 GiB so that no file needs more than 10,000 parts', () => {
  assert.equal(defaultPartSize(1), 8 * MiB);
  assert.equal(defaultPartSize(GiB), 8 * MiB);
  assert.equal(defaultPartSize(10_000 * 8 * MiB), 8 * MiB);
  assert.equal(defaultPartSize(10_000 * 8 * MiB + 1), 8 * MiB + 1);
  assert.equal(defaultPartSize(5 * 1024 * GiB), Math.ceil((5 * 1024 * GiB) / 10_000));
  assert.equal(MULTIPART_THRESHOLD, 32 * MiB);
});

test('planParts: consecutive [start, end) slices covering the file; only the last is shorter', () => {
  assert.deepEqual(planParts(20 * MiB), [
    [0, 8 * MiB],
    [8 * MiB, 16 * MiB],
    [16 * MiB, 20 * MiB],
  ]);
  assert.deepEqual(
    planParts(16 * MiB),
    [
      [0, 8 * MiB],
      [8 * MiB, 16 * MiB],
    ],
    'an exact multiple has no empty last part',
  );
  assert.deepEqual(planParts(100), [[0, 100]], 'a small file is one part');
  assert.deepEqual(planParts(0), [[0, 0]], 'even an empty file has a part 1');

  const gib = planParts(GiB);
  assert.equal(gib.length, 128);
  for (let i = 1; i < gib.length; i++) assert.equal(gib[i]![0], gib[i - 1]![1], 'no gaps, no overlaps');
  assert.equal(gib.at(-1)![1], GiB);
});

test("planParts keeps to S3's rules whatever part size is asked for", () => {
  assert.equal(planParts(20 * MiB, 1024)[0]![1], 5 * MiB, 'at least 5 MiB');
  assert.equal(planParts(20 * GiB, 10 * GiB)[0]![1], 5 * GiB, 'at most 5 GiB');
  const huge = 200 * GiB;
  assert.ok(planParts(huge, 5 * MiB).length <= 10_000, 'at most 10,000 parts');
  assert.equal(
    planParts(12 * MiB + 5, 5 * MiB)
      .map(([start, end]) => end - start)
      .join(),
    [5 * MiB, 5 * MiB, 2 * MiB + 5].join(),
  );
});

test('backoff: full jitter between 0 and base * 2^attempt, capped at 30 s', () => {
  assert.equal(backoff(0, 1000, 0), 0);
  assert.equal(backoff(0, 1000, 0.999999), 999);
  assert.equal(backoff(3, 1000, 0.5), 4000);
  assert.equal(backoff(4, 1000, 0.999999), 15_999);
  assert.equal(backoff(10, 1000, 0.999999), 29_999, 'capped');
  for (let i = 0; i < 200; i++) {
    const delay = backoff(2, 500);
    assert.ok(delay >= 0 && delay < 2000, `${delay} within [0, 2000)`);
  }
});

test('isRetryable: network errors, 5xx, 429, 408; part PUTs also corrupted bodies and expired URLs; never other 4xx or an abort', () => {
  const s3 = (status: number, code: string, message = '') => new StorageError(status, code, message);
  const chute = (status: number, code: string) => new ChuteApiError(status, code, code);
  const cases: Array<[unknown, boolean, boolean]> = [
    // error, retried for an API call, retried for a part PUT
    [new NetworkError(), true, true],
    [new StorageUnreachableError(), true, true],
    [chute(500, 'internal_error'), true, true],
    [chute(503, 'storage_unavailable'), true, true],
    [s3(503, 'SlowDown'), true, true],
    [chute(429, 'rate_limited'), true, true],
    [s3(400, 'RequestTimeout'), true, true],
    [chute(408, 'http_408'), true, true],
    [s3(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.'), false, true],
    [chute(409, 'checksum_mismatch'), false, true],
    [s3(403, 'AccessDenied', 'Request has expired'), false, true],
    [s3(403, 'AccessDenied', ''), false, true], // what Ceph RGW answers to an expired URL
    [chute(403, 'permission_denied'), false, true],
    [s3(403, 'AccessDenied', 'Access Denied'), false, false],
    [
      s3(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      ),
      false,
      false,
    ],
    [s3(400, 'EntityTooLarge'), false, false],
    [s3(404, 'NoSuchUpload'), false, false],
    [chute(400, 'validation_failed'), false, false],
    [chute(401, 'not_authenticated'), false, false],
    [chute(404, 'not_found'), false, false],
    [chute(409, 'upload_closed'), false, false],
    [chute(413, 'file_too_large'), false, false],
    [new AbortError(), false, false],
    [new TypeError('a bug'), false, false],
  ];
  for (const [error, api, part] of cases) {
    const name =
      error instanceof StorageError || error instanceof ChuteApiError
        ? `${error.status} ${error.code}`
        : (error as Error).name;
    assert.equal(isRetryable(error), api, `API call, ${name}`);
    if (error instanceof Error) Object.assign(error, { partNumber: 3 });
    assert.equal(isRetryable(error), part, `part PUT, ${name}`);
  }
});

test('withRetry: tries again after retryable failures, reports each retry, gives up after `retries`', async () => {
  const seen: RetryInfo[] = [];
  let tries = 0;
  const value = await withRetry(
    async () => {
      if (++tries < 3) throw new NetworkError();
      return 'ok';
    },
    { retries: 5, retryDelay: 1, onRetry: (info) => seen.push(info) },
  );
  assert.equal(value, 'ok');
  assert.equal(tries, 3);
  assert.deepEqual(
    seen.map((info) => info.attempt),
    [1, 2],
  );
  assert.ok(seen.every((info) => info.error instanceof NetworkError && info.delay >= 0 && info.delay < 4));

  tries = 0;
  await assert.rejects(
    withRetry(
      async () => {
        tries++;
        throw new ChuteApiError(503, 'storage_unavailable', 'down');
      },
      { retries: 2, retryDelay: 1 },
    ),
    (error: unknown) => error instanceof ChuteApiError && error.status === 503,
  );
  assert.equal(tries, 3, 'the first try and 2 retries');

  tries = 0;
  await assert.rejects(
    withRetry(
      async () => {
        tries++;
        throw new ChuteApiError(400, 'validation_failed', 'no');
      },
      { retries: 5, retryDelay: 1 },
    ),
    ChuteApiError,
  );
  assert.equal(tries, 1, 'a 400 is not retried');
});

test('withRetry: an abort during the backoff rejects at once with AbortError', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const running = withRetry(
    async () => {
      throw new NetworkError();
    },
    { retries: 5, retryDelay: 60_000, signal: controller.signal },
  );
  setTimeout(() => controller.abort(), 20);
  // backoff(0, 60 s) is random in [0, 60 s): the abort must not wait for it
  await assert.rejects(running, AbortError);
  assert.ok(Date.now() - started < 5000);
});

test('withRetry: a pause aborts the try in flight and starts it again on resume, without counting a retry', async () => {
  const control = new UploadControl();
  const signals: AbortSignal[] = [];
  const retries: RetryInfo[] = [];
  const running = withRetry(
    (signal) =>
      new Promise<string>((resolve, reject) => {
        signals.push(signal);
        if (signals.length === 2) return resolve('second try');
        signal.addEventListener('abort', () => reject(new AbortError()));
      }),
    { retries: 0, control, onRetry: (info) => retries.push(info) },
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  control.pause();
  assert.equal(signals[0]!.aborted, true, 'the request in flight is stopped');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(signals.length, 1, 'nothing starts while paused');
  control.resume();
  assert.equal(await running, 'second try');
  assert.deepEqual(retries, [], 'retries: 0 and still done: a pause is not a failure');
});

test('memoryResumeStore / defaultResumeStore: the Web Storage interface; in Node one shared store in memory', async () => {
  const store = memoryResumeStore();
  assert.equal(await store.getItem('a'), null);
  store.setItem('a', '{"id":1}');
  assert.equal(await store.getItem('a'), '{"id":1}');
  store.removeItem('a');
  assert.equal(await store.getItem('a'), null);

  assert.equal(typeof (globalThis as { localStorage?: unknown }).localStorage, 'undefined');
  const shared = defaultResumeStore();
  assert.equal(defaultResumeStore(), shared, 'the same store for every upload of the process');
});

test('defaultResumeStore uses localStorage where it works', () => {
  const fake = memoryResumeStore();
  (globalThis as { localStorage?: unknown }).localStorage = fake;
  try {
    assert.equal(defaultResumeStore(), fake);
  } finally {
    delete (globalThis as { localStorage?: unknown }).localStorage;
  }
});

test('fingerprint: name, size, modification time and a hash of the first and last MiB', async () => {
  const bytes = new Uint8Array(3 * MiB);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  const file = (content: Uint8Array<ArrayBuffer>, name = 'movie.mp4', lastModified = 1_700_000_000_000) =>
    new File([content], name, { lastModified });
  const print = await fingerprint(file(bytes));
  assert.match(print, /^movie\.mp4\|3145728\|1700000000000\|[0-9a-f]{32}$/);
  assert.equal(await fingerprint(file(bytes)), print, 'the same file gives the same fingerprint');
  assert.notEqual(await fingerprint(file(bytes, 'other.mp4')), print);
  assert.notEqual(await fingerprint(file(bytes, 'movie.mp4', 1_700_000_000_001)), print, 'touched');
  const tail = new Uint8Array(bytes);
  tail[tail.length - 10]! ^= 1;
  assert.notEqual(await fingerprint(file(tail)), print, 'a change in the last MiB');
  const head = new Uint8Array(bytes);
  head[10]! ^= 1;
  assert.notEqual(await fingerprint(file(head)), print, 'a change in the first MiB');
  const middle = new Uint8Array(bytes);
  middle[MiB + 10]! ^= 1;
  assert.equal(await fingerprint(file(middle)), print, 'the middle is not read (the part MD5s check it)');
  assert.match(
    await fingerprint(new Blob([bytes]), 'named.bin'),
    /^named\.bin\|3145728\|\|/,
    'a Blob: the given name, no time',
  );
});

test('base64ToHex turns a Content-MD5 into the hex of an S3 ETag', () => {
  assert.equal(base64ToHex('1B2M2Y8AsgTpgAmY7PhCfg=='), 'd41d8cd98f00b204e9800998ecf8427e');
});
