// One suite every storage backend must pass (as tus-node-server does for its stores).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { MULTIPART, type SignedRequest, type StorageBackend } from '../../src/core/storage/types.js';
import { AppError } from '../../src/errors.js';

export interface BackendUnderTest {
  storage: StorageBackend;
  /** the bytes a download URL serves, as a client would get them */
  download(url: string): Promise<Buffer>;
  /** a part PUT to its signed URL, as a client sends it: the part's etag, or null where it was refused */
  sendPart(signed: SignedRequest, body: Buffer): Promise<string | null>;
}

const key = () => `files/${randomBytes(16).toString('hex')}.bin`;

/** A body that arrives in pieces, like a network upload. */
const chunked = (content: Buffer, size = 64 * 1024) =>
  Readable.from(
    (function* () {
      for (let offset = 0; offset < content.length; offset += size) yield content.subarray(offset, offset + size);
    })(),
  );

const rejectsWith = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

export function storageSuite(name: string, setup: (t: TestContext) => Promise<BackendUnderTest>) {
  describe(`storage backend: ${name}`, () => {
    test('put streams the bytes; head reports their size; the download URL serves them', async (t) => {
      const { storage, download } = await setup(t);
      const content = randomBytes(300 * 1024 + 7);
      const k = key();
      const { size } = await storage.put({
        key: k,
        body: chunked(content),
        contentType: 'application/pdf',
        maxSize: content.length,
      });
      assert.equal(size, content.length);
      const head = await storage.head(k);
      assert.equal(head?.size, content.length);
      if (head?.contentType !== null) assert.equal(head?.contentType, 'application/pdf');
      const url = await storage.downloadUrl({
        key: k,
        fileName: 'doc.pdf',
        contentType: 'application/pdf',
        expiresIn: 60,
      });
      assert.deepEqual(await download(url), content);
    });

    test('put past maxSize fails with file_too_large and leaves nothing at the key', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      await assert.rejects(
        storage.put({
          key: k,
          body: chunked(randomBytes(100_001)),
          contentType: 'application/octet-stream',
          maxSize: 100_000,
        }),
        rejectsWith('file_too_large'),
      );
      assert.equal(await storage.head(k), null);
    });

    test('an empty body fails with file_empty and leaves nothing', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      await assert.rejects(
        storage.put({ key: k, body: Readable.from([]), contentType: 'text/plain', maxSize: 10 }),
        rejectsWith('file_empty'),
      );
      assert.equal(await storage.head(k), null);
    });

    test('a body that breaks mid-way fails the put and leaves nothing', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      const broken = Readable.from(
        (async function* () {
          yield randomBytes(64 * 1024);
          throw new Error('connection reset by peer');
        })(),
      );
      await assert.rejects(storage.put({ key: k, body: broken, contentType: 'text/plain', maxSize: 10_000_000 }));
      assert.equal(await storage.head(k), null);
    });

    test('head of a missing key is null; delete removes and deleting twice is fine', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      assert.equal(await storage.head(k), null);
      await storage.put({ key: k, body: chunked(Buffer.from('bye')), contentType: 'text/plain', maxSize: 10 });
      await storage.delete(k);
      assert.equal(await storage.head(k), null);
      await storage.delete(k);
    });

    test("head with firstBytes gives the size and the object's first bytes (all of a shorter one) in one call, and null for a missing key", async (t) => {
      const { storage } = await setup(t);
      const content = randomBytes(100 * 1024);
      const k = key();
      await storage.put({
        key: k,
        body: chunked(content),
        contentType: 'application/octet-stream',
        maxSize: content.length,
      });
      const head = await storage.head(k, { firstBytes: 4096 });
      assert.deepEqual(head?.firstBytes, content.subarray(0, 4096));
      assert.equal(head?.size, content.length);
      assert.equal(head?.contentType, storage.kind === 's3' ? 'application/octet-stream' : null);
      const small = key();
      await storage.put({
        key: small,
        body: chunked(Buffer.from('%PDF-1.7')),
        contentType: 'application/pdf',
        maxSize: 10,
      });
      assert.deepEqual(await storage.head(small, { firstBytes: 4096 }), {
        size: 8,
        contentType: storage.kind === 's3' ? 'application/pdf' : null,
        firstBytes: Buffer.from('%PDF-1.7'),
      });
      assert.equal(await storage.head(key(), { firstBytes: 4096 }), null);
      assert.deepEqual((await storage.head(small))?.firstBytes, Buffer.alloc(0));
    });

    test('a direct upload target is presigned without a storage round trip', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      const target = await storage.createDirectUpload({
        key: k,
        fileId: 42,
        contentType: 'image/png',
        minSize: 1,
        maxSize: 1000,
        expiresIn: 60,
      });
      assert.match(target.url, /^https?:\/\//);
      if (storage.kind === 's3') assert.equal(target.fields.key, k);
      else assert.match(target.url, /\/api\/files\/upload\/direct\/local\/42\/$/);
      await storage.ping();
    });

    describe('multipart', () => {
      const start = async (t: TestContext) => {
        const backend = await setup(t);
        const k = key();
        const { uploadId } = await backend.storage.createMultipart({ key: k, contentType: 'application/octet-stream' });
        const sign = (partNumber: number, contentLength: number) =>
          backend.storage.signPart({ key: k, uploadId, partNumber, contentLength, expiresIn: 60 });
        return { ...backend, k, uploadId, sign };
      };

      test('parts signed for their exact size are listed, and complete joins them into the object', async (t) => {
        const { storage, download, sendPart, k, uploadId, sign } = await start(t);
        const first = randomBytes(MULTIPART.minPartSize);
        const last = randomBytes(1234);
        const etag1 = await sendPart(await sign(1, first.length), first);
        const etag2 = await sendPart(await sign(2, last.length), last);
        assert.ok(etag1 && etag2);
        const listed = await storage.listParts({ key: k, uploadId });
        assert.deepEqual(
          listed.map((part) => [part.partNumber, part.size]),
          [
            [1, first.length],
            [2, last.length],
          ],
        );
        const { sha256 } = await storage.completeMultipart({
          key: k,
          uploadId,
          parts: [
            { partNumber: 1, etag: etag1 },
            { partNumber: 2, etag: etag2 },
          ],
        });
        const joined = Buffer.concat([first, last]);
        if (sha256 !== null) assert.equal(sha256, createHash('sha256').update(joined).digest('hex'));
        assert.equal((await storage.head(k))?.size, joined.length);
        const url = await storage.downloadUrl({
          key: k,
          fileName: 'big.bin',
          contentType: 'application/octet-stream',
          expiresIn: 60,
        });
        assert.deepEqual(await download(url), joined);
      });

      test('a part of another size than signed is refused and not listed', async (t) => {
        const { storage, sendPart, k, uploadId, sign } = await start(t);
        assert.equal(await sendPart(await sign(1, 100), randomBytes(99)), null);
        assert.deepEqual(await storage.listParts({ key: k, uploadId }), []);
        await storage.abortMultipart({ key: k, uploadId });
      });

      test('complete with an etag no part has is refused and makes no object', async (t) => {
        const { storage, sendPart, k, uploadId, sign } = await start(t);
        const body = randomBytes(2048);
        assert.ok(await sendPart(await sign(1, body.length), body));
        await assert.rejects(
          storage.completeMultipart({
            key: k,
            uploadId,
            parts: [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }],
          }),
        );
        assert.equal(await storage.head(k), null);
        await storage.abortMultipart({ key: k, uploadId });
      });

      test('abort removes the parts: listing fails with not_found, completing fails and makes no object, and aborting twice is fine', async (t) => {
        const { storage, sendPart, k, uploadId, sign } = await start(t);
        const body = randomBytes(2048);
        const etag = await sendPart(await sign(1, body.length), body);
        assert.ok(etag);
        await storage.abortMultipart({ key: k, uploadId });
        await assert.rejects(storage.listParts({ key: k, uploadId }), rejectsWith('not_found'));
        await assert.rejects(storage.completeMultipart({ key: k, uploadId, parts: [{ partNumber: 1, etag }] }));
        assert.equal(await storage.head(k), null);
        await storage.abortMultipart({ key: k, uploadId });
      });
    });
  });
}
