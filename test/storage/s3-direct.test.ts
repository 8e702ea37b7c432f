// The S3 calls sent without the SDK's middleware stack (HeadObject, ranged GetObject,
// CreateMultipartUpload): signed as RGW accepts them for any key, retried as the SDK retries, and
// refused with the errors the SDK's own calls give.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer } from 'node:net';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import type { S3Config } from '../../src/config.js';
import { S3Storage } from '../../src/core/storage/s3.js';
import { AppError } from '../../src/errors.js';
import { defer, freshBucket, s3Settings } from '../helpers.js';

const rejectsWith = (code: string, details?: Record<string, unknown>) => (error: unknown) => {
  assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
  assert.equal(error.code, code);
  if (details) for (const [name, value] of Object.entries(details)) assert.equal(error.extra?.[name], value);
  return true;
};

function storageOn(t: TestContext, config: Partial<S3Config> & Pick<S3Config, 'endpoint' | 'bucket'>): S3Storage {
  const storage = new S3Storage({
    accessKeyId: 'localtest',
    secretAccessKey: 'localtest-secret',
    region: 'us-east-1',
    defaultAcl: 'private',
    presignedExpiry: 60,
    customDomain: null,
    ...config,
  });
  defer(t, () => storage.client.destroy());
  return storage;
}

/** A stand-in S3 on a free port that answers each request with the next of `answers` (the last repeats). */
async function fakeS3(t: TestContext, answers: Array<(req: IncomingMessage, res: ServerResponse) => void>) {
  const seen: Array<{ method: string; url: string; authorization: string }> = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: String(req.headers.authorization) });
    req.resume();
    answers[Math.min(seen.length, answers.length) - 1]!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(t, () => new Promise((resolve) => server.close(resolve)));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const xmlError = (status: number, code: string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${code} here</Message></Error>`);
};

describe('S3 requests sent without the SDK middleware stack', () => {
  test('RGW accepts their signatures for keys with spaces, plus signs, quotes and non-ASCII letters', async (t) => {
    const settings = s3Settings();
    const storage = storageOn(t, { ...settings, bucket: await freshBucket(t) });
    const key = `files/ä b+c'(1)=&~$@.pdf`;
    const content = Buffer.from('%PDF-1.7 and more');
    await storage.put({ key, body: Readable.from([content]), contentType: 'application/pdf', maxSize: 100 });
    assert.deepEqual(await storage.head(key), {
      size: content.length,
      contentType: 'application/pdf',
      firstBytes: Buffer.alloc(0),
    });
    assert.deepEqual(await storage.head(key, { firstBytes: 8 }), {
      size: content.length,
      contentType: 'application/pdf',
      firstBytes: content.subarray(0, 8),
    });
    const { uploadId } = await storage.createMultipart({ key: `${key}.parts`, contentType: 'application/pdf' });
    assert.deepEqual(await storage.listParts({ key: `${key}.parts`, uploadId }), []);
    await storage.abortMultipart({ key: `${key}.parts`, uploadId });
  });

  test("a finish's check of a file larger than its first bytes keeps the connection to the storage for the next one", async (t) => {
    // a relay in front of RGW counts the connections the storage client opens
    const settings = s3Settings();
    const target = new URL(settings.endpoint);
    let connections = 0;
    const relay = createTcpServer((socket) => {
      connections += 1;
      const upstream = connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    defer(t, () => new Promise((resolve) => relay.close(resolve)));
    const bucket = await freshBucket(t);
    const writer = storageOn(t, { ...settings, bucket });
    const content = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(64 * 1024, 'x')]);
    await writer.put({
      key: 'files/big.pdf',
      body: Readable.from([content]),
      contentType: 'application/pdf',
      maxSize: 1e6,
    });
    const storage = storageOn(t, {
      ...settings,
      endpoint: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
      bucket,
    });
    for (let i = 0; i < 10; i++) {
      const stored = await storage.head('files/big.pdf', { firstBytes: 4096 });
      assert.equal(stored?.size, content.length);
      assert.deepEqual(stored?.firstBytes, content.subarray(0, 4096));
    }
    assert.equal(connections, 1, 'ten checks in a row over one kept-alive connection');
  });

  test("a wrong secret: head is storage_unavailable, a multipart create upload_rejected with S3's code", async (t) => {
    const settings = s3Settings();
    const bucket = await freshBucket(t);
    const storage = storageOn(t, { ...settings, bucket, secretAccessKey: 'not-the-secret' });
    await assert.rejects(storage.head('files/x.bin'), rejectsWith('storage_unavailable'));
    await assert.rejects(storage.head('files/x.bin', { firstBytes: 16 }), rejectsWith('storage_unavailable'));
    await assert.rejects(
      storage.createMultipart({ key: 'files/x.bin', contentType: 'application/pdf' }),
      rejectsWith('upload_rejected', { storage_code: 'SignatureDoesNotMatch' }),
    );
  });

  test('a storage that is slow down once is asked again; one failing every time is storage_unavailable after 3 tries', async (t) => {
    const flaky = await fakeS3(t, [
      xmlError(503, 'SlowDown'),
      (_req, res) => {
        res.writeHead(200, { 'content-length': '1234', 'content-type': 'image/png' });
        res.end();
      },
    ]);
    const storage = storageOn(t, { endpoint: flaky.endpoint, bucket: 'b' });
    assert.deepEqual(await storage.head('files/a.png'), {
      size: 1234,
      contentType: 'image/png',
      firstBytes: Buffer.alloc(0),
    });
    assert.deepEqual(
      flaky.seen.map(({ method, url }) => `${method} ${url}`),
      ['HEAD /b/files/a.png', 'HEAD /b/files/a.png'],
    );
    assert.match(
      flaky.seen[1]!.authorization,
      /^AWS4-HMAC-SHA256 Credential=localtest\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, /,
    );

    const down = await fakeS3(t, [xmlError(500, 'InternalError')]);
    const broken = storageOn(t, { endpoint: down.endpoint, bucket: 'b' });
    await assert.rejects(
      broken.head('files/a.png', { firstBytes: 16 }),
      rejectsWith('storage_unavailable', { reason: 'InternalError (500)' }),
    );
    assert.equal(down.seen.length, 3);
  });

  test("a server clock 20 minutes off: RGW refuses the signature's time, and the request is sent again on RGW's clock, as the SDK's own calls do", async (t) => {
    const settings = s3Settings();
    const storage = storageOn(t, { ...settings, bucket: await freshBucket(t) });
    const content = Buffer.from('%PDF-1.7 skewed');
    await storage.put({
      key: 'files/skew.pdf',
      body: Readable.from([content]),
      contentType: 'application/pdf',
      maxSize: 100,
    });
    for (const call of [
      () => storage.head('files/skew.pdf'),
      () => storage.head('files/skew.pdf', { firstBytes: 4 }),
      () => storage.createMultipart({ key: 'files/skew.parts', contentType: 'application/pdf' }),
    ]) {
      // as if this machine's clock ran 20 minutes behind RGW's (S3 allows 15)
      storage.client.config.systemClockOffset = -20 * 60_000;
      await call();
      assert.ok(
        Math.abs(storage.client.config.systemClockOffset) < 60_000,
        `the offset was taken from RGW's clock (now ${storage.client.config.systemClockOffset} ms)`,
      );
    }
  });

  test('a storage that ignores Range and sends the whole object: the first bytes and the size are still right', async (t) => {
    const whole = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(256 * 1024, 'x')]);
    const odd = await fakeS3(t, [
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': whole.length });
        res.end(whole);
      },
    ]);
    const storage = storageOn(t, { endpoint: odd.endpoint, bucket: 'b' });
    assert.deepEqual(await storage.head('files/k', { firstBytes: 4096 }), {
      size: whole.length,
      contentType: 'application/pdf',
      firstBytes: whole.subarray(0, 4096),
    });
  });

  test('a multipart create answered without an UploadId is storage_unavailable; a missing object is null', async (t) => {
    const odd = await fakeS3(t, [
      (_req, res) =>
        res.end('<?xml version="1.0"?><InitiateMultipartUploadResult><Key>k</Key></InitiateMultipartUploadResult>'),
      (_req, res) => {
        res.writeHead(404);
        res.end();
      },
    ]);
    const storage = storageOn(t, { endpoint: odd.endpoint, bucket: 'b' });
    await assert.rejects(
      storage.createMultipart({ key: 'files/k', contentType: 'text/plain' }),
      rejectsWith('storage_unavailable'),
    );
    assert.equal(odd.seen[0]!.url, '/b/files/k?uploads=');
    assert.equal(await storage.head('files/k'), null);
  });
});
