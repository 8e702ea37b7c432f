// One suite every storage backend must pass (as tus-node-server does for its stores).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import type { StorageBackend } from '../../src/core/storage/types.js';
import { AppError } from '../../src/errors.js';

export interface BackendUnderTest {
  storage: StorageBackend;
  /** the bytes a download URL serves, as a client would get them */
  download(url: string): Promise<Buffer>;
}

const key = () => `files/${randomBytes(16).toString('hex')}.bin`;

/** A body that arrives in pieces, like a network upload. */
const chunked = (content: Buffer, size = 64 * 1024) =>
  Readable.from((function* () {
    for (let offset = 0; offset < content.length; offset += size) yield content.subarray(offset, offset + size);
  })());

const rejectsWith = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

export function storageSuite(name: string, setup: (t: TestContext) => Promise<BackendUnderTest>) {
  describe(`storage backend: ${name}`, () => {
    test('put streams the bytes; head reports their size; the download URL serves them', async (t) => {
      const { storage, download } = await setup(t);
      const content = randomBytes(300 * 1024 + 7);
      const k = key();
      const { size } = await storage.put({ key: k, body: chunked(content), contentType: 'application/pdf', maxSize: content.length });
      assert.equal(size, content.length);
      const head = await storage.head(k);
      assert.equal(head?.size, content.length);
      if (head?.contentType !== null) assert.equal(head?.contentType, 'application/pdf');
      const url = await storage.downloadUrl({ key: k, fileName: 'doc.pdf', contentType: 'application/pdf', expiresIn: 60 });
      assert.deepEqual(await download(url), content);
    });

    test('put past maxSize fails with file_too_large and leaves nothing at the key', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      await assert.rejects(storage.put({ key: k, body: chunked(randomBytes(100_001)), contentType: 'application/octet-stream', maxSize: 100_000 }), rejectsWith('file_too_large'));
      assert.equal(await storage.head(k), null);
    });

    test('an empty body fails with file_empty and leaves nothing', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      await assert.rejects(storage.put({ key: k, body: Readable.from([]), contentType: 'text/plain', maxSize: 10 }), rejectsWith('file_empty'));
      assert.equal(await storage.head(k), null);
    });

    test('a body that breaks mid-way fails the put and leaves nothing', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      const broken = Readable.from((async function* () {
        yield randomBytes(64 * 1024);
        throw new Error('connection reset by peer');
      })());
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

    test('head with firstBytes gives the size and the object\'s first bytes (all of a shorter one) in one call, and null for a missing key', async (t) => {
      const { storage } = await setup(t);
      const content = randomBytes(100 * 1024);
      const k = key();
      await storage.put({ key: k, body: chunked(content), contentType: 'application/octet-stream', maxSize: content.length });
      const head = await storage.head(k, { firstBytes: 4096 });
      assert.deepEqual(head?.firstBytes, content.subarray(0, 4096));
      assert.equal(head?.size, content.length);
      assert.equal(head?.contentType, storage.kind === 's3' ? 'application/octet-stream' : null);
      const small = key();
      await storage.put({ key: small, body: chunked(Buffer.from('%PDF-1.7')), contentType: 'application/pdf', maxSize: 10 });
      assert.deepEqual(await storage.head(small, { firstBytes: 4096 }), { size: 8, contentType: storage.kind === 's3' ? 'application/pdf' : null, firstBytes: Buffer.from('%PDF-1.7') });
      assert.equal(await storage.head(key(), { firstBytes: 4096 }), null);
      assert.deepEqual((await storage.head(small))?.firstBytes, Buffer.alloc(0));
    });

    test('a direct upload target is presigned without a storage round trip', async (t) => {
      const { storage } = await setup(t);
      const k = key();
      const target = await storage.createDirectUpload({ key: k, fileId: 42, contentType: 'image/png', minSize: 1, maxSize: 1000, expiresIn: 60 });
      assert.match(target.url, /^https?:\/\//);
      if (storage.kind === 's3') assert.equal(target.fields.key, k);
      else assert.match(target.url, /\/api\/files\/upload\/direct\/local\/42\/$/);
      await storage.ping();
    });
  });
}
