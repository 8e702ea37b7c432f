// uploadMultipart against an in-memory double of Chute's multipart API and of S3's part PUTs,
// reached through `fetch` (no XMLHttpRequest here: the Node transport).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createChecksums } from '../src/checksums/node.js';
import { UploadControl } from '../src/control.js';
import { AbortError, ChuteApiError, StorageError, StorageUnreachableError } from '../src/errors.js';
import { uploadMultipart } from '../src/multipart.js';
import { fingerprint, memoryResumeStore } from '../src/resume.js';
import type { RetryInfo } from '../src/retry.js';
import type { UploadPhase, UploadProgress } from '../src/types.js';
import '../src/node.js';
import { uploadFile } from '../src/upload.js';
import { fileRecord } from './fakes.js';

const MiB = 2 ** 20;
const BASE = 'http://chute.test';
const md5 = (data: Buffer) => createHash('md5').update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

interface PartCall {
  partNumber: number;
  /** how many PUTs of this part came before, in this server's life */
  attempt: number;
  body: Buffer;
  headers: Record<string, string>;
  signal: AbortSignal;
}
type PartHook = (call: PartCall) => Response | 'network' | undefined | Promise<Response | 'network' | undefined>;

interface Upload {
  size: number;
  name: string;
  parts: Map<number, { data: Buffer; etag: string }>;
  state: 'open' | 'completed' | 'aborted';
  sha256?: string;
}

const xmlError = (status: number, code: string, message: string) =>
  new Response(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    { status },
  );

/** Chute's multipart endpoints and S3's part PUTs, in memory. */
function fakeServer({
  partHook,
  exposeEtag = true,
  partSize = 5 * MiB,
}: {
  partHook?: PartHook;
  exposeEtag?: boolean;
  partSize?: number;
} = {}) {
  const uploads = new Map<number, Upload>();
  const hooks: { part?: PartHook } = { part: partHook };
  const log: string[] = [];
  const putCounts = new Map<string, number>();
  const partPuts: PartCall[] = [];
  let nextId = 1;
  const json = (status: number, body?: unknown) =>
    new Response(body === undefined ? null : JSON.stringify(body), { status });
  const fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), BASE);
    const method = init.method ?? 'GET';
    const signal = init.signal ?? new AbortController().signal;
    if (signal.aborted) throw new DOMException('aborted', 'AbortError');
    const headers = { ...(init.headers as Record<string, string>) };

    if (url.host === 's3.test') {
      const id = Number(url.searchParams.get('id'));
      const partNumber = Number(url.searchParams.get('partNumber'));
      const body = Buffer.from(await new Response(init.body).arrayBuffer());
      const key = `${id}/${partNumber}`;
      const call: PartCall = { partNumber, attempt: putCounts.get(key) ?? 0, body, headers, signal };
      putCounts.set(key, call.attempt + 1);
      partPuts.push(call);
      log.push(`PUT ${partNumber}`);
      assert.equal(init.credentials, 'omit', 'no cookies to the storage');
      assert.ok(!('Authorization' in headers), 'no token to the storage');
      const hooked = await hooks.part?.(call);
      if (signal.aborted) throw new DOMException('aborted', 'AbortError');
      if (hooked === 'network') throw new TypeError('fetch failed');
      if (hooked) return hooked;
      if (Number(url.searchParams.get('expires')) < Date.now())
        return xmlError(403, 'AccessDenied', 'Request has expired');
      if (headers['Content-MD5'] !== (url.searchParams.get('md5') ?? undefined))
        return xmlError(403, 'SignatureDoesNotMatch', 'signed headers differ');
      if (headers['Content-MD5'] && md5(body).toString('base64') !== headers['Content-MD5']) {
        return xmlError(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
      }
      const upload = uploads.get(id);
      if (upload?.state !== 'open') return xmlError(404, 'NoSuchUpload', 'gone');
      const etag = `"${md5(body).toString('hex')}"`;
      upload.parts.set(partNumber, { data: body, etag });
      return new Response(null, { status: 200, headers: exposeEtag ? { ETag: etag } : {} });
    }

    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    const route = url.pathname.replace(/\/\d+\//, '/:id/');
    const id = Number(/\/multipart\/(\d+)\//.exec(url.pathname)?.[1]);
    const upload = uploads.get(id);
    log.push(
      `${method} ${route.replace('/api/files/upload/multipart/', '')}${route.endsWith('sign/') ? ` ${body.parts.map((p: { part_number: number }) => p.part_number).join(',')}` : ''}`,
    );
    if (route === '/api/files/upload/multipart/' && method === 'POST') {
      const created = nextId++;
      uploads.set(created, { size: body.file_size, name: body.file_name, parts: new Map(), state: 'open' });
      return json(200, { id: created, key: `files/${created}`, upload_id: `up${created}`, part_size: partSize });
    }
    if (!upload || upload.state === 'aborted') return json(404, { code: 'not_found', message: 'No such file.' });
    if (method === 'DELETE') {
      upload.state = 'aborted';
      return json(204);
    }
    if (upload.state !== 'open') return json(409, { code: 'upload_closed', message: 'closed' });
    if (route.endsWith('/sign/')) {
      return json(200, {
        parts: body.parts.map(({ part_number, content_md5 }: { part_number: number; content_md5?: string }) => {
          const query = new URLSearchParams({
            id: String(id),
            partNumber: String(part_number),
            expires: String(Date.now() + 60_000),
          });
          if (content_md5) query.set('md5', content_md5);
          return {
            part_number,
            method: 'PUT',
            url: `https://s3.test/bucket/files/${id}?${query}`,
            headers: content_md5 ? { 'Content-MD5': content_md5 } : {},
          };
        }),
      });
    }
    if (route.endsWith('/parts/')) {
      return json(200, {
        parts: [...upload.parts]
          .sort(([a], [b]) => a - b)
          .map(([part_number, part]) => ({ part_number, size: part.data.length, etag: part.etag })),
      });
    }
    if (route.endsWith('/complete/')) {
      const data = Buffer.concat(
        body.parts.map(({ part_number, etag }: { part_number: number; etag: string }) => {
          const part = upload.parts.get(part_number);
          assert.equal(part?.etag, etag, `part ${part_number}'s ETag`);
          return part!.data;
        }),
      );
      assert.equal(data.length, upload.size, 'the parts add up to the size');
      if (body.sha256 !== undefined && body.sha256 !== sha256(data))
        return json(409, { code: 'checksum_mismatch', message: 'sha256' });
      upload.state = 'completed';
      upload.sha256 = body.sha256;
      return json(200, fileRecord(id, upload.name, upload.size));
    }
    return json(404, { code: 'not_found', message: 'no route' });
  };
  const contentOf = (id: number) =>
    Buffer.concat([...uploads.get(id)!.parts].sort(([a], [b]) => a - b).map(([, part]) => part.data));
  return { fetch: fetch as typeof globalThis.fetch, uploads, log, partPuts, contentOf, hooks };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

const content = randomBytes(12 * MiB + 12345);
const bigFile = (data = content, name = 'movie.mp4') =>
  new File([data], name, { type: 'video/mp4', lastModified: 1_700_000_000_000 });

test('a file in parts: created, each part signed with its MD5 and PUT without credentials, completed with the SHA-256', async () => {
  const server = fakeServer();
  const progress: UploadProgress[] = [];
  const phases: UploadPhase[] = [];
  const record = await uploadMultipart(bigFile(), {
    baseUrl: BASE,
    token: 'tok',
    fetch: server.fetch,
    concurrency: 2,
    checksums: createChecksums,
    resumeStore: memoryResumeStore(),
    onProgress: (p) => progress.push(p),
    onPhase: (phase) => phases.push(phase),
  });
  assert.equal(record.id, 1);
  assert.deepEqual(phases, ['starting', 'uploading', 'finishing']);
  assert.ok(server.contentOf(1).equals(content), 'the parts are the file');
  assert.equal(server.uploads.get(1)!.sha256, sha256(content));
  assert.equal(server.uploads.get(1)!.state, 'completed');
  assert.deepEqual(server.partPuts.map((put) => put.body.length).sort(), [5 * MiB, 5 * MiB, 2 * MiB + 12345].sort());
  for (const put of server.partPuts) assert.equal(put.headers['Content-MD5'], md5(put.body).toString('base64'));
  assert.equal(server.log[0], 'POST ');
  assert.equal(server.log.at(-1), 'POST :id/complete/');
  assert.deepEqual(progress[0], { loaded: 0, total: content.length });
  assert.deepEqual(progress.at(-1), { loaded: content.length, total: content.length });
  for (let i = 1; i < progress.length; i++)
    assert.ok(progress[i]!.loaded >= progress[i - 1]!.loaded, 'grows when nothing fails');
});

test('without checksums: no Content-MD5, no sha256', async () => {
  const server = fakeServer();
  await uploadMultipart(bigFile(), { baseUrl: BASE, fetch: server.fetch, resumeStore: false });
  assert.ok(server.partPuts.every((put) => !('Content-MD5' in put.headers)));
  assert.equal(server.uploads.get(1)!.sha256, undefined);
  assert.ok(server.contentOf(1).equals(content));
});

test('uploadFile sends files of multipartThreshold bytes or more in parts, smaller ones in one request', async () => {
  const server = fakeServer();
  await uploadFile(bigFile(), { baseUrl: BASE, fetch: server.fetch, multipartThreshold: 10 * MiB, resumeStore: false });
  assert.equal(server.uploads.size, 1, 'multipart');
  await assert.rejects(
    uploadFile(bigFile(), { baseUrl: BASE, fetch: server.fetch, multipartThreshold: 13 * MiB, resumeStore: false }),
    (error: unknown) =>
      error instanceof ChuteApiError &&
      error.status === 404 &&
      server.log.at(-1) === 'POST /api/files/upload/direct/start/',
    'under the threshold it goes to the single-request start endpoint (not in this double)',
  );
});

test('the next part is signed while a part is going up, so no PUT waits for its signature; each part is signed once', async () => {
  const signedDuringPut: boolean[] = [];
  const server = fakeServer({
    partHook: async ({ partNumber }) => {
      await sleep(20);
      // one part at a time: while part n goes up, part n+1 has been signed already
      if (partNumber < 3) signedDuringPut.push(server.log.includes(`POST :id/sign/ ${partNumber + 1}`));
      return undefined;
    },
  });
  await uploadMultipart(bigFile(), { baseUrl: BASE, fetch: server.fetch, concurrency: 1, resumeStore: false });
  assert.ok(server.contentOf(1).equals(content));
  assert.deepEqual(signedDuringPut, [true, true]);
  assert.deepEqual(server.log.filter((line) => line.includes('sign/')).sort(), [
    'POST :id/sign/ 1',
    'POST :id/sign/ 2',
    'POST :id/sign/ 3',
  ]);
});

test('network errors, 5xx and 429 on a part are retried with backoff; each retry is reported', async () => {
  const server = fakeServer({
    partHook: ({ partNumber, attempt }) => {
      if (partNumber === 1 && attempt === 0) return 'network';
      if (partNumber === 2 && attempt === 0) return xmlError(503, 'SlowDown', 'Please reduce your request rate.');
      if (partNumber === 3 && attempt < 2) return new Response('{"code":"rate_limited"}', { status: 429 });
      return undefined;
    },
  });
  const retries: RetryInfo[] = [];
  await uploadMultipart(bigFile(), {
    baseUrl: BASE,
    fetch: server.fetch,
    retryDelay: 1,
    resumeStore: false,
    onRetry: (info) => retries.push(info),
  });
  assert.ok(server.contentOf(1).equals(content));
  assert.deepEqual(retries.map((r) => `${r.partNumber}:${r.attempt}`).sort(), ['1:1', '2:1', '3:1', '3:2']);
  assert.ok(retries.find((r) => r.partNumber === 1)!.error instanceof Error);
  assert.equal((retries.find((r) => r.partNumber === 2)!.error as StorageError).code, 'SlowDown');
});

test('an expired part URL is signed again, not fatal', async () => {
  const server = fakeServer({
    partHook: ({ partNumber, attempt }) =>
      partNumber === 2 && attempt === 0 ? xmlError(403, 'AccessDenied', 'Request has expired') : undefined,
  });
  await uploadMultipart(bigFile(), { baseUrl: BASE, fetch: server.fetch, retryDelay: 1, resumeStore: false });
  assert.ok(server.contentOf(1).equals(content));
  assert.equal(server.log.filter((line) => line === 'POST :id/sign/ 2').length, 2, 'part 2 signed twice');
});

test('a corrupted part (BadDigest) is sent again; when it keeps failing the upload fails with the storage error', async () => {
  let corrupt = 1;
  const corrupting = fakeServer({
    partHook: ({ body, partNumber }) => {
      if (partNumber === 2 && corrupt-- > 0) body[100] = body[100]! ^ 0xff;
      return undefined;
    },
  });
  // flipping a byte of the received copy stands for corruption on the way: the MD5 check catches it
  const retries: RetryInfo[] = [];
  await uploadMultipart(bigFile(), {
    baseUrl: BASE,
    fetch: corrupting.fetch,
    checksums: createChecksums,
    retryDelay: 1,
    resumeStore: false,
    onRetry: (r) => retries.push(r),
  });
  assert.equal((retries[0]!.error as StorageError).code, 'BadDigest');
  assert.ok(corrupting.contentOf(1).equals(content));

  const always = fakeServer({
    partHook: ({ body, partNumber }) => {
      if (partNumber === 2) body[100] = body[100]! ^ 0xff;
      return undefined;
    },
  });
  await assert.rejects(
    uploadMultipart(bigFile(), {
      baseUrl: BASE,
      fetch: always.fetch,
      checksums: createChecksums,
      retries: 2,
      retryDelay: 1,
      resumeStore: false,
    }),
    (error: unknown) => error instanceof StorageError && error.code === 'BadDigest',
  );
  assert.equal(always.log.filter((line) => line === 'PUT 2').length, 3);
});

test('other 4xx are not retried: the upload fails and is dropped (DELETE) and forgotten', async () => {
  const server = fakeServer({
    partHook: ({ partNumber }) => (partNumber === 2 ? xmlError(403, 'AccessDenied', 'Access Denied') : undefined),
  });
  const store = memoryResumeStore();
  await assert.rejects(
    uploadMultipart(bigFile(), {
      baseUrl: BASE,
      fetch: server.fetch,
      retryDelay: 1,
      resumeStore: store,
      concurrency: 1,
    }),
    (error: unknown) => error instanceof StorageError && error.code === 'AccessDenied' && !error.expired,
  );
  assert.equal(server.log.filter((line) => line === 'PUT 2').length, 1);
  assert.equal(server.uploads.get(1)!.state, 'aborted');
  assert.equal(server.log.at(-1), 'DELETE :id/');
  assert.ok(!server.log.includes('PUT 3'), 'the other parts stopped');
});

test('resume: after a failure the same file continues from the parts already there, sending only the rest', async () => {
  const server = fakeServer({ partHook: ({ partNumber }) => (partNumber === 3 ? 'network' : undefined) });
  const saved = new Map<string, string>();
  const options = {
    baseUrl: BASE,
    fetch: server.fetch,
    resumeStore: memoryResumeStore(saved),
    concurrency: 1,
    retries: 1,
    retryDelay: 1,
    checksums: createChecksums,
  };
  await assert.rejects(uploadMultipart(bigFile(), options), StorageUnreachableError);
  assert.equal(server.uploads.get(1)!.state, 'open', 'a network failure keeps the upload');
  assert.equal([...server.uploads.get(1)!.parts.keys()].join(), '1,2');
  assert.equal(saved.size, 1, 'and remembers it');
  const entry = JSON.parse([...saved.values()][0]!);
  assert.deepEqual(entry, {
    id: 1,
    key: 'files/1',
    upload_id: 'up1',
    part_size: 5 * MiB,
    created: entry.created,
    name: 'movie.mp4',
    size: content.length,
  });
  assert.ok(Math.abs(entry.created - Date.now()) < 60_000);
  assert.match(
    [...saved.keys()][0]!,
    /^chute-upload\|http:\/\/chute\.test\/\|movie\.mp4\|12595257\|1700000000000\|[0-9a-f]{32}$/,
  );

  server.hooks.part = undefined;
  server.log.length = 0;
  const resumed: unknown[] = [];
  const progress: UploadProgress[] = [];
  const record = await uploadMultipart(bigFile(), {
    ...options,
    onResume: (info) => resumed.push(info),
    onProgress: (p) => progress.push(p),
  });
  assert.equal(record.id, 1, 'the same upload');
  assert.deepEqual(resumed, [{ uploadedBytes: 10 * MiB, uploadedParts: 2, totalParts: 3 }]);
  assert.deepEqual(server.log, ['GET :id/parts/', 'POST :id/sign/ 3', 'PUT 3', 'POST :id/complete/']);
  assert.ok(server.contentOf(1).equals(content));
  assert.equal(server.uploads.get(1)!.sha256, sha256(content), 'the SHA-256 covers the skipped parts too');
  assert.ok(
    progress.some((p) => p.loaded === 10 * MiB),
    'progress counts the parts already there',
  );
  assert.equal(saved.size, 0, 'forgotten when done');
  assert.equal(server.uploads.size, 1);
});

test('resume: another file of the same name and size is a new upload (fingerprint)', async () => {
  const server = fakeServer({ partHook: ({ partNumber }) => (partNumber === 3 ? 'network' : undefined) });
  const options = { baseUrl: BASE, fetch: server.fetch, resumeStore: memoryResumeStore(), concurrency: 1, retries: 0 };
  await assert.rejects(uploadMultipart(bigFile(), options), StorageUnreachableError);
  server.hooks.part = undefined;
  const other = Buffer.from(content);
  other[other.length - 1]! ^= 1;
  const record = await uploadMultipart(bigFile(other), options);
  assert.equal(record.id, 2);
  assert.ok(server.contentOf(2).equals(other));
});

test('resume: a part already there whose MD5 differs from the file is sent again', async () => {
  const server = fakeServer({ partHook: ({ partNumber }) => (partNumber === 3 ? 'network' : undefined) });
  const options = {
    baseUrl: BASE,
    fetch: server.fetch,
    resumeStore: memoryResumeStore(),
    concurrency: 1,
    retries: 0,
    checksums: createChecksums,
  };
  await assert.rejects(uploadMultipart(bigFile(), options), StorageUnreachableError);
  // part 2 on the storage is not the file's (e.g. the file changed in the middle, where the fingerprint does not look)
  const part2 = server.uploads.get(1)!.parts.get(2)!;
  part2.data = Buffer.from(part2.data);
  part2.data[7]! ^= 1;
  part2.etag = `"${md5(part2.data).toString('hex')}"`;
  server.hooks.part = undefined;
  server.log.length = 0;
  await uploadMultipart(bigFile(), options);
  assert.deepEqual(
    server.log.filter((line) => line.startsWith('PUT')),
    ['PUT 2', 'PUT 3'],
    'part 1 kept (its MD5 matches), part 2 sent again',
  );
  assert.ok(server.contentOf(1).equals(content));
  assert.equal(server.uploads.get(1)!.sha256, sha256(content));
});

test('resume: an upload Chute no longer knows (completed, aborted, cleaned up) starts anew', async () => {
  const server = fakeServer();
  const saved = new Map<string, string>();
  const options = { baseUrl: BASE, fetch: server.fetch, resumeStore: memoryResumeStore(saved), retryDelay: 1 };
  await uploadMultipart(bigFile(), options);
  // a stale entry: the page died after complete, before it could forget the upload
  saved.set(
    `chute-upload|${BASE}/|${await fingerprint(bigFile())}`,
    JSON.stringify({ id: 1, upload_id: 'up1', key: 'files/1', part_size: 5 * MiB, created: 0 }),
  );
  server.log.length = 0;
  const record = await uploadMultipart(bigFile(), options);
  assert.equal(record.id, 2);
  assert.deepEqual(server.log.slice(0, 2), ['GET :id/parts/', 'POST ']);
  assert.ok(server.contentOf(2).equals(content));
  assert.equal(saved.size, 0);
});

test('resume: an unreadable entry is ignored', async () => {
  const server = fakeServer();
  const saved = new Map<string, string>([[`chute-upload|${BASE}/|${await fingerprint(bigFile())}`, '{not json']]);
  const record = await uploadMultipart(bigFile(), {
    baseUrl: BASE,
    fetch: server.fetch,
    resumeStore: memoryResumeStore(saved),
  });
  assert.equal(record.id, 1);
});

test('abort: stops the parts in flight, drops the upload (DELETE) and forgets it', async () => {
  const controller = new AbortController();
  const server = fakeServer({
    partHook: async ({ signal }) => {
      setTimeout(() => controller.abort(), 5);
      await sleep(10_000, signal);
      return undefined;
    },
  });
  const store = new Map<string, string>();
  await assert.rejects(
    uploadMultipart(bigFile(), {
      baseUrl: BASE,
      fetch: server.fetch,
      signal: controller.signal,
      resumeStore: memoryResumeStore(store),
    }),
    AbortError,
  );
  assert.equal(server.uploads.get(1)!.state, 'aborted');
  assert.equal(server.log.at(-1), 'DELETE :id/');
  assert.equal(store.size, 0);
});

test('pause stops the parts in flight and starts none; resume sends them again; no retry is used up', async () => {
  const control = new UploadControl();
  let paused = false;
  const server = fakeServer({
    partHook: async ({ signal, partNumber, attempt }) => {
      if (attempt === 0 && partNumber === 1 && !paused) {
        paused = true;
        setTimeout(() => control.pause(), 5);
      }
      await sleep(partNumber === 1 && attempt === 0 ? 10_000 : 1, signal);
      return undefined;
    },
  });
  const progress: UploadProgress[] = [];
  const upload = uploadMultipart(bigFile(), {
    baseUrl: BASE,
    fetch: server.fetch,
    control,
    retries: 0,
    resumeStore: false,
    onProgress: (p) => progress.push(p),
  });
  for (let i = 0; i < 500 && !control.paused; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(control.paused, true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const puts = server.partPuts.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(server.partPuts.length, puts, 'no part starts while paused');
  control.resume();
  await upload;
  assert.ok(server.contentOf(1).equals(content));
  assert.ok(server.partPuts.filter((put) => put.partNumber === 1).length >= 2, 'part 1 sent again after the pause');
});

test('ETags the bucket CORS does not expose are read from the parts list before completing', async () => {
  const server = fakeServer({ exposeEtag: false });
  await uploadMultipart(bigFile(), { baseUrl: BASE, fetch: server.fetch, resumeStore: false });
  assert.deepEqual(server.log.slice(-2), ['GET :id/parts/', 'POST :id/complete/']);
  assert.equal(server.uploads.get(1)!.state, 'completed');
});

test('a refusal at complete (e.g. checksum_mismatch) is not retried and forgets the upload', async () => {
  const server = fakeServer();
  const store = new Map<string, string>();
  const lying = async () => ({ ...(await createChecksums()), digest: async () => '0'.repeat(64) });
  await assert.rejects(
    uploadMultipart(bigFile(), {
      baseUrl: BASE,
      fetch: server.fetch,
      checksums: lying,
      resumeStore: memoryResumeStore(store),
      retryDelay: 1,
    }),
    (error: unknown) => error instanceof ChuteApiError && error.code === 'checksum_mismatch',
  );
  assert.equal(server.log.filter((line) => line === 'POST :id/complete/').length, 1);
  assert.equal(store.size, 0);
});

test('Node: an answer cut off after its status line (the body stream fails) is a network error and retried, not a fatal TypeError', async () => {
  const server = fakeServer({
    partHook: ({ partNumber, attempt }) =>
      partNumber === 2 && attempt === 0
        ? new Response(new ReadableStream({ start: (controller) => controller.error(new TypeError('terminated')) }), {
            status: 200,
          })
        : undefined,
  });
  const store = new Map<string, string>();
  const retries: RetryInfo[] = [];
  await uploadMultipart(bigFile(), {
    baseUrl: BASE,
    fetch: server.fetch,
    retryDelay: 1,
    resumeStore: memoryResumeStore(store),
    onRetry: (r) => retries.push(r),
  });
  assert.deepEqual(
    retries.map((r) => [r.partNumber, (r.error as Error).constructor.name]),
    [[2, 'StorageUnreachableError']],
  );
  assert.equal(server.uploads.get(1)!.state, 'completed');
  assert.ok(server.contentOf(1).equals(content));
});
