// The stall timeout and the per-host request limit, in Node, against a real HTTP server on
// 127.0.0.1 that plays both Chute's upload API and the storage: the transport is Node's own fetch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { StorageUnreachableError } from '../src/errors.js';
import type { RetryInfo } from '../src/retry.js';
import type { UploadProgress } from '../src/types.js';
import '../src/node.js';
import { uploadFile, uploadFiles } from '../src/upload.js';
import { fileRecord } from './fakes.js';

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How the storage treats one request: read it all, read it slowly, or stop reading (a dead link). */
type Storage = (request: {
  kind: 'part' | 'form';
  id: number;
  part: number;
  attempt: number;
}) => 'normal' | 'slow' | 'stall';

interface Server {
  base: string;
  /** the bytes the storage has: a multipart upload's parts joined, or a form's file */
  stored: Map<number, Buffer>;
  /** requests to the storage at the same time, at most */
  maxInFlight: number;
  /** storage requests the client gave up on (closed before they were answered) */
  cut: number;
  deleted: number[];
}

const servers: Array<ReturnType<typeof createServer>> = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

/** Reads a request body; 'slow' at about 8 MiB/s, in small steps (it progresses all the time). */
async function readBody(request: IncomingMessage, slow: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const start = Date.now();
  let length = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (slow) await sleep(Math.max(1, (length / (8 * MiB)) * 1000 - (Date.now() - start)));
  }
  return Buffer.concat(chunks);
}

async function startServer(storage: Storage, answerDelay = 0, partSize = 5 * MiB): Promise<Server> {
  const uploads = new Map<number, { name: string; size: number; parts: Map<number, Buffer> }>();
  const attempts = new Map<string, number>();
  const state: Server = { base: '', stored: new Map(), maxInFlight: 0, cut: 0, deleted: [] };
  let nextId = 1;
  let inFlight = 0;
  const json = (response: ServerResponse, status: number, body?: unknown) => {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(body === undefined ? undefined : JSON.stringify(body));
  };

  const server = createServer((request, response) => {
    // a request the client cut (a stall, an abort) ends here
    request.on('error', () => {});
    handle(request, response).catch(() => response.destroy());
  });
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url!, state.base);
    const storageRequest = /^\/(part|form)\/(\d+)\/(\d+)$/.exec(url.pathname);
    if (storageRequest) {
      const [, kind, id, part] = storageRequest as unknown as [string, 'part' | 'form', string, string];
      const key = `${kind}/${id}/${part}`;
      const attempt = attempts.get(key) ?? 0;
      attempts.set(key, attempt + 1);
      inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      response.on('close', () => {
        inFlight--;
        if (!response.writableFinished) state.cut++;
      });
      const mode = storage({ kind, id: Number(id), part: Number(part), attempt });
      // a dead link: the request is taken, then nothing more is read or answered
      if (mode === 'stall') return void request.pause();
      const body = await readBody(request, mode === 'slow');
      if (answerDelay) await sleep(answerDelay);
      if (kind === 'part') {
        uploads.get(Number(id))!.parts.set(Number(part), body);
        response.writeHead(200, { ETag: `"${id}-${part}-${body.length}"` });
      } else {
        const form = await new Request(state.base, {
          method: 'POST',
          headers: { 'Content-Type': request.headers['content-type']! },
          body: new Uint8Array(body),
        }).formData();
        assert.equal(form.get('key'), `files/${id}`, 'the fields go first');
        state.stored.set(Number(id), Buffer.from(await (form.get('file') as Blob).arrayBuffer()));
        response.writeHead(204);
      }
      return void response.end();
    }

    const body = JSON.parse((await readBody(request, false)).toString() || 'null');
    const id = Number(/\/(\d+)\//.exec(url.pathname)?.[1]);
    if (request.method === 'DELETE') {
      state.deleted.push(id);
      return json(response, 204);
    }
    if (url.pathname === '/api/files/upload/direct/start/') {
      const created = nextId++;
      uploads.set(created, { name: body.file_name, size: body.file_size, parts: new Map() });
      return json(response, 200, {
        id: created,
        url: `${state.base}/form/${created}/1`,
        fields: { key: `files/${created}` },
      });
    }
    if (url.pathname === '/api/files/upload/direct/finish/') {
      const upload = uploads.get(body.file_id)!;
      assert.equal(state.stored.get(body.file_id)?.length, upload.size);
      return json(response, 200, fileRecord(body.file_id, upload.name, upload.size));
    }
    if (url.pathname === '/api/files/upload/multipart/') {
      const created = nextId++;
      uploads.set(created, { name: body.file_name, size: body.file_size, parts: new Map() });
      return json(response, 200, {
        id: created,
        key: `files/${created}`,
        upload_id: `u${created}`,
        part_size: partSize,
      });
    }
    if (url.pathname.endsWith('/sign/')) {
      return json(response, 200, {
        parts: body.parts.map(({ part_number }: { part_number: number }) => ({
          part_number,
          url: `${state.base}/part/${id}/${part_number}`,
          headers: {},
        })),
      });
    }
    if (url.pathname.endsWith('/complete/')) {
      const upload = uploads.get(id)!;
      for (const { part_number, etag } of body.parts)
        assert.equal(etag, `"${id}-${part_number}-${upload.parts.get(part_number)!.length}"`);
      state.stored.set(
        id,
        Buffer.concat(body.parts.map(({ part_number }: { part_number: number }) => upload.parts.get(part_number)!)),
      );
      return json(response, 200, fileRecord(id, upload.name, upload.size));
    }
    json(response, 404, { code: 'not_found', message: url.pathname });
  };
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

const bytes = (size: number) => randomBytes(size);
const asFile = (data: Buffer, name = 'movie.mp4') => new File([new Uint8Array(data)], name, { type: 'video/mp4' });

test('a part whose connection stops moving is cut after stallTimeout and sent again; the file arrives whole', {
  timeout: 30_000,
}, async () => {
  const server = await startServer(({ part, attempt }) => (part === 2 && attempt === 0 ? 'stall' : 'normal'));
  const data = bytes(10 * MiB + 777);
  const retries: RetryInfo[] = [];
  const record = await uploadFile(asFile(data), {
    baseUrl: server.base,
    multipartThreshold: 1,
    resumeStore: false,
    retryDelay: 1,
    // wide enough that a part which moves is never taken for stalled on a busy machine
    stallTimeout: 3000,
    onRetry: (info) => retries.push(info),
  });
  assert.ok(server.stored.get(record.id)!.equals(data), 'the storage has the file, byte for byte');
  assert.deepEqual(
    retries.map((r) => [r.partNumber, (r.error as Error).constructor.name]),
    [[2, 'StorageUnreachableError']],
  );
});

test('a single-request upload that stalls fails with StorageUnreachableError and discards its record', {
  timeout: 30_000,
}, async () => {
  const server = await startServer(() => 'stall');
  await assert.rejects(
    uploadFile(asFile(bytes(300_000), 'small.bin'), { baseUrl: server.base, stallTimeout: 500 }),
    (error) => error instanceof StorageUnreachableError,
  );
  assert.deepEqual(server.deleted, [1]);
});

test('a slow request that keeps moving is not cut, though it takes longer than stallTimeout; Node reports its progress as it goes', {
  timeout: 60_000,
}, async () => {
  const server = await startServer(() => 'slow', 0, 24 * MiB);
  // about 3 s at 8 MiB/s, against a 2 s stall timeout; more than the kernel's buffers on 127.0.0.1
  // take at once, so the client sees its bytes go at the storage's pace
  const data = bytes(24 * MiB);
  const retries: RetryInfo[] = [];
  const progress: UploadProgress[] = [];
  const started = Date.now();
  const record = await uploadFile(asFile(data), {
    baseUrl: server.base,
    multipartThreshold: 1,
    resumeStore: false,
    stallTimeout: 2000,
    onRetry: (info) => retries.push(info),
    onProgress: (p) => progress.push(p),
  });
  assert.ok(Date.now() - started > 2000, 'longer than the stall timeout');
  assert.ok(server.stored.get(record.id)!.equals(data));
  assert.deepEqual(retries, []);
  assert.equal(server.cut, 0);
  assert.ok(
    progress.some((p) => p.loaded > 0 && p.loaded < p.total),
    'bytes reported while the part goes up',
  );
});

test('Node: a single-request upload reports its bytes as they go; the form arrives whole', {
  timeout: 30_000,
}, async () => {
  const server = await startServer(() => 'slow');
  const data = bytes(3 * MiB);
  const progress: UploadProgress[] = [];
  const record = await uploadFile(asFile(data, 'small.bin'), {
    baseUrl: server.base,
    stallTimeout: 2000,
    onProgress: (p) => progress.push(p),
  });
  assert.ok(server.stored.get(record.id)!.equals(data));
  assert.ok(progress.some((p) => p.loaded > 0 && p.loaded < p.total));
  assert.equal(server.cut, 0);
});

test('requests waiting for a free slot of their host are not counted as stalled: at most hostConcurrency in flight, none retried', {
  timeout: 60_000,
}, async () => {
  // every storage answer takes 800 ms: with 2 in flight, the last of 9 parts waits well over the 2 s stall timeout
  const server = await startServer(() => 'normal', 800);
  const files = [bytes(15 * MiB), bytes(12 * MiB), bytes(11 * MiB)];
  const retries: RetryInfo[] = [];
  const results = await uploadFiles(
    files.map((data, index) => asFile(data, `${index}.bin`)),
    {
      baseUrl: server.base,
      multipartThreshold: 1,
      resumeStore: false,
      hostConcurrency: 2,
      stallTimeout: 2000,
      onRetry: (info) => retries.push(info),
    },
  );
  assert.deepEqual(retries, []);
  assert.equal(server.maxInFlight, 2, 'never more than hostConcurrency requests to the storage at once');
  results.forEach((result, index) => {
    assert.ok(result.ok);
    assert.ok(server.stored.get(result.record.id)!.equals(files[index]!), `file ${index} arrived whole`);
  });
});
