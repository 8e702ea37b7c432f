import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { createUrlSigner } from '../../src/core/signing.js';
import { LocalStorage } from '../../src/core/storage/local.js';
import { MULTIPART } from '../../src/core/storage/types.js';
import { AppError } from '../../src/errors.js';
import { storageSuite } from './storage.shared.js';
import { defer } from '../helpers.js';

storageSuite('local', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'chute-storage-'));
  defer(t, () => rm(root, { recursive: true, force: true }));
  const storage = new LocalStorage({ root, appDomain: 'http://chute.test', signer: createUrlSigner('test-secret') });
  return {
    storage,
    // what the /media route does: check the signature, then read the file
    async download(url) {
      const parsed = new URL(url);
      const key = decodeURIComponent(parsed.pathname.replace(/^\/media\//, ''));
      if (
        !storage.verifyDownload(
          key,
          Number(parsed.searchParams.get('expires')),
          parsed.searchParams.get('signature') ?? '',
        )
      ) {
        throw new Error('signature refused');
      }
      return readFile(storage.pathOf(key));
    },
    // what the local part route does: check the signature, then receive exactly the signed size
    async sendPart(signed, body) {
      const parsed = new URL(signed.url);
      const [uploadId, partNumber] = parsed.pathname.split('/').filter(Boolean).slice(-2);
      const size = parsed.searchParams.has('size') ? Number(parsed.searchParams.get('size')) : undefined;
      const payload = LocalStorage.partPayload(uploadId!, Number(partNumber), signed.headers['Content-MD5'], size);
      if (
        !storage.verifySigned(
          payload,
          Number(parsed.searchParams.get('expires')),
          parsed.searchParams.get('signature') ?? '',
        )
      )
        throw new Error('signature refused');
      try {
        const part = await storage.parts.receive({
          uploadId: uploadId!,
          partNumber: Number(partNumber),
          body: Readable.from([body]),
          maxSize: MULTIPART.maxPartSize,
          exactSize: size,
        });
        return part.etag;
      } catch (error) {
        if (error instanceof AppError) return null;
        throw error;
      }
    },
  };
});

test('a part whose temp file is removed by an abort before the folder itself answers not_found, not a raw ENOENT (a 500)', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'chute-storage-'));
  defer(t, () => rm(root, { recursive: true, force: true }));
  const storage = new LocalStorage({ root, appDomain: 'http://chute.test', signer: createUrlSigner('test-secret') });
  const { uploadId } = await storage.createMultipart();
  const dir = join(root, '.multipart', uploadId);
  // what abort's recursive rm does in its first step: the folder's files go, the folder is still there
  async function* body() {
    yield Buffer.alloc(2048, 1);
    await setTimeout(20);
    for (const name of await readdir(dir)) await rm(join(dir, name), { force: true });
    yield Buffer.alloc(2048, 2);
  }
  await assert.rejects(
    storage.parts.receive({ uploadId, partNumber: 1, body: Readable.from(body()), maxSize: 8192 }),
    (error: unknown) => error instanceof AppError && error.code === 'not_found',
  );
});

test('parts sent while their upload is aborted: the abort succeeds and leaves nothing; each part is stored or not_found, never a raw ENOENT or ENOTEMPTY (a 500)', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'chute-storage-'));
  defer(t, () => rm(root, { recursive: true, force: true }));
  const storage = new LocalStorage({ root, appDomain: 'http://chute.test', signer: createUrlSigner('test-secret') });
  const outcomes = new Map<string, number>();
  for (let round = 0; round < 60; round++) {
    const { uploadId } = await storage.createMultipart();
    const receiving = storage.parts
      .receive({ uploadId, partNumber: 1, body: Readable.from([Buffer.alloc(4096, round)]), maxSize: 8192 })
      .then(
        () => 'stored',
        (error: unknown) => (error instanceof AppError ? error.code : `raw ${(error as NodeJS.ErrnoException).code}`),
      );
    // the abort lands anywhere in the part's steps: the folder check, the open, the rename
    if (round % 3) await setTimeout(round % 5);
    await storage.abortMultipart({ uploadId });
    const outcome = await receiving;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  assert.deepEqual(
    [...outcomes.keys()].filter((outcome) => outcome !== 'stored' && outcome !== 'not_found'),
    [],
    JSON.stringify([...outcomes]),
  );
  assert.deepEqual(await readdir(join(root, '.multipart')), [], 'every aborted upload left nothing');
});

test('a body that has already failed leaves no temp file, for a whole file or a part, once put or receive rejects', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'chute-storage-'));
  defer(t, () => rm(root, { recursive: true, force: true }));
  const storage = new LocalStorage({ root, appDomain: 'http://chute.test', signer: createUrlSigner('test-secret') });
  // the content check refuses a small upload from its first bytes, before the storage reads them;
  // the temp file is then still being opened on another thread when the refusal comes back
  const refused = () => {
    const body = new Readable({ read() {} });
    body.on('error', () => undefined);
    body.destroy(new AppError('upload_type_mismatch', 'refused'));
    return body;
  };
  const { uploadId } = await storage.createMultipart();
  // a race, so many rounds of four at once: before the fix one was left within a few hundred
  for (let round = 0; round < 500; round++) {
    const calls = [0, 1, 2, 3].map((i) =>
      i % 2
        ? storage.put({ key: `files/${round}-${i}.png`, body: refused(), contentType: 'image/png', maxSize: 100 })
        : storage.parts.receive({ uploadId, partNumber: i + 1, body: refused(), maxSize: 100 }),
    );
    for (const outcome of await Promise.allSettled(calls)) assert.equal(outcome.status, 'rejected');
    assert.deepEqual(await readdir(join(root, '.tmp')), [], `round ${round}: no temp file of a whole file`);
    assert.deepEqual(await readdir(join(root, '.multipart', uploadId)), [], `round ${round}: no temp file of a part`);
  }
});
