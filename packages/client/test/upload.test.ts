import assert from 'node:assert/strict';
import { beforeEach, test, type TestContext } from 'node:test';
import { AbortError, ChuteApiError, NetworkError, StorageError, StorageUnreachableError } from '../src/errors.js';
import { uploadFile, uploadFiles } from '../src/upload.js';
import type { UploadProgress } from '../src/types.js';
import { FakeXHR, fakeFetch, fileRecord, installFakeXHR, tick, until } from './fakes.js';

const BASE = 'http://chute.test';
const S3_URL = 'https://bucket.s3.example.com/';
const S3_FIELDS = {
  key: 'files/1-a.txt',
  acl: 'private',
  'Content-Type': 'text/plain',
  Policy: 'p',
  'X-Amz-Signature': 's',
};

/** a Chute double that hands out ids 1, 2, ... and records every call */
function chute(target: 's3' | 'local' = 's3') {
  let nextId = 1;
  const started: Array<{ id: number; name: string; size: number }> = [];
  const deleted: number[] = [];
  const double = fakeFetch({
    'POST /api/files/upload/direct/start/': ({ body }) => {
      const { file_name, file_size } = body as { file_name: string; file_size: number };
      const id = nextId++;
      started.push({ id, name: file_name, size: file_size });
      return {
        status: 200,
        body:
          target === 's3'
            ? { id, url: S3_URL, fields: S3_FIELDS }
            : { id, url: `${BASE}/api/files/upload/direct/local/${id}/`, fields: {} },
      };
    },
    'POST /api/files/upload/direct/finish/': ({ body }) => {
      const { file_id } = body as { file_id: number };
      const entry = started.find((s) => s.id === file_id)!;
      return { status: 200, body: fileRecord(file_id, entry.name, entry.size) };
    },
  });
  const routes = double;
  // DELETE /api/files/<id>/ for any id
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const match = /\/api\/files\/(\d+)\/$/.exec(String(input));
    if (match && init?.method === 'DELETE') {
      deleted.push(Number(match[1]));
      routes.calls.push({
        method: 'DELETE',
        url: String(input),
        headers: { ...(init.headers as Record<string, string>) },
        body: undefined,
        credentials: init.credentials,
      });
      return new Response(null, { status: 204 });
    }
    return routes.fetch(input, init);
  };
  return { fetch, calls: routes.calls, started, deleted };
}

const file = (text = 'hello world', name = 'a.txt') => new File([text], name, { type: 'text/plain' });

beforeEach(() => installFakeXHR());

test('S3: start -> POST to the storage without credentials -> finish; resolves with the record', async () => {
  const api = chute('s3');
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.respond(204));
  const record = await uploadFile(file(), { baseUrl: BASE, token: 'tok', fetch: api.fetch });

  assert.equal(record.id, 1);
  assert.equal(record.is_valid, true);
  assert.deepEqual(
    api.calls.map((c) => `${c.method} ${new URL(c.url).pathname}`),
    ['POST /api/files/upload/direct/start/', 'POST /api/files/upload/direct/finish/'],
  );
  assert.deepEqual(api.calls[0]!.body, { file_name: 'a.txt', file_type: 'text/plain', file_size: 11 });
  assert.deepEqual(api.calls[1]!.body, { file_id: 1 });
  for (const call of api.calls) assert.equal(call.headers.Authorization, 'Bearer tok');

  const [xhr] = FakeXHR.instances;
  assert.equal(xhr!.method, 'POST');
  assert.equal(xhr!.url, S3_URL);
  assert.deepEqual(xhr!.headers, {}, 'no Authorization header to the storage');
  assert.equal(xhr!.withCredentials, false, 'no cookies to the storage');
  assert.deepEqual([...(xhr!.body as FormData).keys()], [...Object.keys(S3_FIELDS), 'file']);
});

test('S3 with cookie credentials: still no credentials to the storage', async () => {
  const api = chute('s3');
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.respond(204));
  await uploadFile(file(), { baseUrl: BASE, credentials: 'include', fetch: api.fetch });
  assert.equal(FakeXHR.instances[0]!.withCredentials, false);
  assert.deepEqual(
    api.calls.map((c) => c.credentials),
    ['include', 'include'],
  );
});

test('local: the upload goes to Chute with the bearer token / cookies', async () => {
  const api = chute('local');
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.respond(200, '{"id":1}'));
  await uploadFile(file(), { baseUrl: BASE, token: 'tok', fetch: api.fetch });
  assert.equal(FakeXHR.instances[0]!.url, `${BASE}/api/files/upload/direct/local/1/`);
  assert.equal(FakeXHR.instances[0]!.headers.Authorization, 'Bearer tok');

  installFakeXHR();
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.respond(200, '{"id":2}'));
  await uploadFile(file(), { baseUrl: BASE, credentials: 'include', fetch: api.fetch });
  assert.equal(FakeXHR.instances[0]!.withCredentials, true);
  assert.deepEqual(FakeXHR.instances[0]!.headers, {});
});

test('fileName and fileType override the file; an unknown type falls back to application/octet-stream', async () => {
  const api = chute('s3');
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.respond(204));
  await uploadFile(file(), { baseUrl: BASE, fetch: api.fetch, fileName: 'renamed.md', fileType: 'text/markdown' });
  await uploadFile(new Blob(['xyz']), { baseUrl: BASE, fetch: api.fetch });
  assert.deepEqual(api.calls[0]!.body, { file_name: 'renamed.md', file_type: 'text/markdown', file_size: 11 });
  assert.deepEqual(api.calls[2]!.body, { file_name: 'file', file_type: 'application/octet-stream', file_size: 3 });
  assert.equal(((FakeXHR.instances[0]!.body as FormData).get('file') as File).name, 'renamed.md');
});

test('progress is reported in file bytes, starts at 0, only grows and ends at the size; phases in order', async () => {
  const api = chute('s3');
  const content = 'x'.repeat(1000);
  FakeXHR.onSend = (xhr) =>
    queueMicrotask(() => {
      // the request body is bigger than the file (fields + multipart framing)
      xhr.progress(300, 1500);
      xhr.progress(750, 1500);
      xhr.progress(600, 1500); // out of order: ignored
      xhr.progress(1500, 1500);
      xhr.respond(204);
    });
  const seen: UploadProgress[] = [];
  const phases: string[] = [];
  await uploadFile(file(content), {
    baseUrl: BASE,
    fetch: api.fetch,
    onProgress: (p) => seen.push(p),
    onPhase: (p) => phases.push(p),
  });
  assert.deepEqual(seen, [
    { loaded: 0, total: 1000 },
    { loaded: 200, total: 1000 },
    { loaded: 500, total: 1000 },
    { loaded: 1000, total: 1000 },
  ]);
  assert.deepEqual(phases, ['starting', 'uploading', 'finishing']);
});

test('an S3 error rejects with StorageError and discards the pending record', async () => {
  const api = chute('s3');
  FakeXHR.onSend = (xhr) =>
    queueMicrotask(() =>
      xhr.respond(
        400,
        '<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>',
      ),
    );
  await assert.rejects(uploadFile(file(), { baseUrl: BASE, fetch: api.fetch }), (error) => {
    assert.ok(error instanceof StorageError);
    assert.equal(error.code, 'EntityTooLarge');
    return true;
  });
  assert.deepEqual(api.deleted, [1]);
  assert.equal(api.calls.filter((c) => c.url.includes('finish')).length, 0);
});

test('a CORS refusal (status 0) from S3 rejects with StorageUnreachableError', async () => {
  const api = chute('s3');
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.fail());
  await assert.rejects(uploadFile(file(), { baseUrl: BASE, fetch: api.fetch }), StorageUnreachableError);
  assert.deepEqual(api.deleted, [1]);
});

test('start refused by Chute (413 file_too_large) rejects with ChuteApiError and uploads nothing', async () => {
  const api = fakeFetch({
    'POST /api/files/upload/direct/start/': () => ({
      status: 413,
      body: {
        code: 'file_too_large',
        message: 'File is too large. It should not exceed 10 MiB.',
        extra: { max_size: 10485760 },
      },
    }),
  });
  await assert.rejects(uploadFile(file(), { baseUrl: BASE, fetch: api.fetch }), (error) => {
    assert.ok(error instanceof ChuteApiError);
    assert.equal(error.status, 413);
    assert.equal(error.code, 'file_too_large');
    assert.equal(error.extra?.max_size, 10485760);
    return true;
  });
  assert.equal(FakeXHR.instances.length, 0);
});

test('finish refused (409 upload_too_large) rejects with ChuteApiError and discards', async () => {
  const api = chute('s3');
  const failing: typeof fetch = async (input, init) =>
    String(input).includes('/finish/')
      ? new Response(JSON.stringify({ code: 'upload_too_large', message: 'too large' }), { status: 409 })
      : api.fetch(input, init);
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.respond(204));
  await assert.rejects(uploadFile(file(), { baseUrl: BASE, fetch: failing }), {
    kind: 'api',
    code: 'upload_too_large',
    status: 409,
  });
  assert.deepEqual(api.deleted, [1]);
});

test('Chute unreachable rejects with NetworkError', async () => {
  const offline = (async () => {
    throw new TypeError('Failed to fetch');
  }) as typeof fetch;
  await assert.rejects(uploadFile(file(), { baseUrl: BASE, fetch: offline }), NetworkError);
});

test('abort mid-upload: aborts the XHR, rejects with AbortError, deletes the pending record', async () => {
  const api = chute('s3');
  const controller = new AbortController();
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.progress(100, 1000));
  const promise = uploadFile(file(), { baseUrl: BASE, fetch: api.fetch, signal: controller.signal });
  await until(() => FakeXHR.instances.length === 1);
  await tick();
  controller.abort();
  await assert.rejects(promise, AbortError);
  assert.equal(FakeXHR.instances[0]!.aborted, true);
  assert.deepEqual(api.deleted, [1]);
  assert.ok(!api.calls.some((c) => c.url.includes('finish')));
});

test('abort before start sends nothing', async () => {
  const api = chute('s3');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(uploadFile(file(), { baseUrl: BASE, fetch: api.fetch, signal: controller.signal }), AbortError);
  assert.equal(api.calls.length, 0);
});

test('abort during start: AbortError, no upload', async () => {
  const controller = new AbortController();
  const slow = ((_input: unknown, init?: RequestInit) =>
    new Promise((_resolve, reject) =>
      init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
    )) as typeof fetch;
  const promise = uploadFile(file(), { baseUrl: BASE, fetch: slow, signal: controller.signal });
  await tick();
  controller.abort();
  await assert.rejects(promise, AbortError);
  assert.equal(FakeXHR.instances.length, 0);
});

test('uploadFiles: concurrency limit, results in input order, per-file callbacks, failures isolated', async () => {
  const api = chute('s3');
  const pending: FakeXHR[] = [];
  FakeXHR.onSend = (xhr) => pending.push(xhr);
  const files = ['a', 'b', 'c', 'd', 'e'].map((name) => file(name.repeat(10), `${name}.txt`));
  const complete: number[] = [];
  const failed: number[] = [];
  const progress = new Map<number, number>();
  const promise = uploadFiles(files, {
    baseUrl: BASE,
    fetch: api.fetch,
    concurrency: 2,
    onFileProgress: (index, p) => progress.set(index, p.loaded),
    onFileComplete: (index) => complete.push(index),
    onFileError: (index) => failed.push(index),
  });
  let answered = 0;
  while (answered < files.length) {
    await until(() => pending.length > 0);
    assert.ok(FakeXHR.instances.length - answered <= 2, 'at most 2 uploads in flight');
    const xhr = pending.shift()!;
    const index = FakeXHR.instances.indexOf(xhr);
    if (index === 2)
      xhr.respond(
        403,
        '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>',
      );
    else xhr.respond(204);
    answered++;
  }
  const results = await promise;
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, true, false, true, true],
  );
  assert.deepEqual(
    results.map((r) => (r.file as File).name),
    ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'],
  );
  const failure = results[2]!;
  assert.ok(!failure.ok && failure.error instanceof StorageError && failure.error.expired);
  assert.deepEqual(failed, [2]);
  assert.deepEqual(complete.sort(), [0, 1, 3, 4]);
  assert.equal(progress.get(0), 10);
});

test('uploadFiles: a per-item signal cancels that file only; the batch signal cancels the rest', async () => {
  const api = chute('s3');
  FakeXHR.onSend = (xhr) => queueMicrotask(() => xhr.respond(204));
  const one = new AbortController();
  one.abort();
  const results = await uploadFiles(
    [file('1', '1.txt'), { file: file('2', '2.txt'), signal: one.signal }, file('3', '3.txt')],
    {
      baseUrl: BASE,
      fetch: api.fetch,
      concurrency: 1,
    },
  );
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, false, true],
  );
  assert.ok(!results[1]!.ok && results[1]!.error instanceof AbortError);

  const batch = new AbortController();
  batch.abort();
  const cancelled = await uploadFiles([file(), file()], { baseUrl: BASE, fetch: api.fetch, signal: batch.signal });
  assert.ok(cancelled.every((r) => !r.ok && r.error instanceof AbortError));
});

// The stall timeout in the browser transport, on fake timers. A host of its own per test: the
// per-host request limit is shared by every upload of the page (of this test file).
/** a single upload with a 1 s stall timeout on fake timers, once its request is sent */
async function uploadOnFakeTimers(t: TestContext, hostConcurrency: number) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const api = chute('s3');
  const promise = uploadFile(file(), { baseUrl: BASE, fetch: api.fetch, stallTimeout: 1000, hostConcurrency });
  promise.catch(() => {});
  await until(() => FakeXHR.instances.length === 1);
  return { api, promise, xhr: FakeXHR.instances[0] };
}

test('browser: a request that sends no byte for stallTimeout is cut (StorageUnreachableError); every progress event restarts the wait', async (t) => {
  const { api, promise, xhr } = await uploadOnFakeTimers(t, 11);
  for (const loaded of [100, 200, 300]) {
    t.mock.timers.tick(900);
    xhr!.progress(loaded, 1500);
  }
  t.mock.timers.tick(999);
  assert.equal(xhr!.aborted, false, 'slow but moving: 3.6 s in all, never 1 s without a byte');
  t.mock.timers.tick(1);
  assert.equal(xhr!.aborted, true, 'cut after 1 s without a byte');
  await assert.rejects(promise, StorageUnreachableError);
  assert.deepEqual(api.deleted, [1]);
});

test('browser: after the last byte, the answer may take stallTimeout plus as long as the sending took', async (t) => {
  const { promise, xhr } = await uploadOnFakeTimers(t, 12);
  t.mock.timers.tick(800);
  xhr!.progress(800, 1500);
  t.mock.timers.tick(800);
  xhr!.progress(1500, 1500);
  t.mock.timers.tick(2599);
  assert.equal(xhr!.aborted, false, 'waits 1 s + the 1.6 s the bytes took');
  t.mock.timers.tick(1);
  assert.equal(xhr!.aborted, true);
  await assert.rejects(promise, StorageUnreachableError);
});

test('browser: at most hostConcurrency (default 6) requests to one host at once, over every upload; the others start as slots free, or leave the queue when aborted', async () => {
  const api = chute('s3');
  const pending: FakeXHR[] = [];
  FakeXHR.onSend = (xhr) => pending.push(xhr);
  const queued = new AbortController();
  const files = Array.from({ length: 8 }, (_, index) => file(`file ${index}`, `${index}.txt`));
  const promise = uploadFiles(
    files.map((f, index) => (index === 7 ? { file: f, signal: queued.signal } : f)),
    { baseUrl: BASE, fetch: api.fetch, concurrency: 8 },
  );
  await until(() => api.started.length === 8);
  await until(() => pending.length === 6);
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(FakeXHR.instances.length, 6, 'two wait for a free connection');
  queued.abort();
  pending.shift()!.respond(204);
  await until(() => FakeXHR.instances.length === 7);
  while (pending.length) pending.shift()!.respond(204);
  const results = await promise;
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, true, true, true, true, true, true, false],
  );
  assert.ok(!results[7]!.ok && results[7]!.error instanceof AbortError);
  assert.equal(FakeXHR.instances.length, 7, 'the aborted one never went');
});
