// The server-side files API (hostFiles): what host code does with files without HTTP, on the
// context the server itself builds (src/http/app.ts), local storage and RGW. The download URLs are
// fetched for real: from the listening server (local) or from RGW (presigned GET).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import type { FileJson } from '../../src/core/files/json.js';
import { hostFiles } from '../../src/core/files/host-api.js';
import { startTestServer } from '../helpers.js';

const download = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
};

/** Seconds a signed URL stays valid, read from the URL itself (S3: X-Amz-Expires; local: expires). */
function lifetimeOf(url: string): number {
  const { searchParams } = new URL(url);
  const s3 = searchParams.get('X-Amz-Expires');
  return s3 ? Number(s3) : Number(searchParams.get('expires')) - Math.floor(Date.now() / 1000);
}

async function hostSetup(t: Parameters<typeof startTestServer>[0], storage: 'local' | 's3') {
  const finished: FileJson[] = [];
  const deleted: FileJson[] = [];
  const started: unknown[] = [];
  const server = await startTestServer(t, {
    storage,
    hooks: {
      onUploadStart: (event) => void started.push(event),
      onUploadFinished: (file) => void finished.push(file),
      onFileDeleted: (file) => void deleted.push(file),
    },
  });
  const user = await server.createUser();
  return { server, user, files: hostFiles(server.app.chute.files), finished, deleted, started };
}

for (const storage of ['local', 's3'] as const) {
  describe(`hostFiles (${storage})`, () => {
    test('put stores a valid file from a Buffer, a Uint8Array or a Readable; its url downloads the bytes; onUploadFinished hears each once', async (t) => {
      const { server, user, files, finished, started } = await hostSetup(t, storage);
      const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4000)]);
      const fromBuffer = await files.put({
        user: user.id,
        fileName: 'invoice.pdf',
        fileType: 'application/pdf',
        body: pdf,
      });
      assert.equal(fromBuffer.is_valid, true);
      assert.equal(fromBuffer.original_file_name, 'invoice.pdf');
      assert.equal(fromBuffer.file_type, 'application/pdf');
      assert.equal(fromBuffer.file_size, pdf.length);
      assert.equal(fromBuffer.uploaded_by, user.id);
      assert.match(fromBuffer.file_name, /^[0-9a-f]{32}\.pdf$/);
      assert.deepEqual((await download(fromBuffer.url!)).bytes, pdf);

      const text = new TextEncoder().encode('hello from a Uint8Array');
      const fromArray = await files.put({
        user: String(user.id),
        fileName: 'a.txt',
        fileType: 'text/plain',
        body: text,
      });
      assert.equal(fromArray.uploaded_by, user.id, 'a string of digits names the same user');
      assert.deepEqual((await download(fromArray.url!)).bytes, Buffer.from(text));

      const streamed = randomBytes(300_000);
      const fromStream = await files.put({
        user: user.id,
        fileName: 'blob.bin',
        fileType: 'application/octet-stream',
        body: Readable.from([streamed.subarray(0, 100_000), streamed.subarray(100_000)]),
      });
      assert.equal(fromStream.file_size, streamed.length);
      assert.deepEqual((await download(fromStream.url!)).bytes, streamed);

      assert.deepEqual(
        finished.map((file) => file.id),
        [fromBuffer.id, fromArray.id, fromStream.id],
      );
      assert.deepEqual(
        finished[0],
        { ...fromBuffer, url: finished[0]!.url },
        'the hook gets the record as put returns it',
      );
      assert.deepEqual(started, [], 'the host is trusted: onUploadStart is not asked about its own puts');
      assert.equal(
        (await server.app.chute.db.selectFrom('chute_files').select('id').execute()).length,
        3,
        'one record per put',
      );
    });

    test("put has a standard upload's checks: a bad name, a contradicting type, an empty body are refused and leave nothing", async (t) => {
      const { server, user, files, finished } = await hostSetup(t, storage);
      await assert.rejects(
        files.put({ user: user.id, fileName: '../x.txt', fileType: 'text/plain', body: Buffer.from('x') }),
        {
          code: 'invalid_file_name',
        },
      );
      await assert.rejects(
        files.put({ user: user.id, fileName: 'a.png', fileType: 'image/png', body: Buffer.from('<html><script>') }),
        { code: 'upload_type_mismatch' },
      );
      await assert.rejects(
        files.put({ user: user.id, fileName: 'a.txt', fileType: 'text/plain', body: Buffer.alloc(0) }),
        { code: 'file_empty' },
      );
      await assert.rejects(files.put({ user: '', fileName: 'a.txt', fileType: 'text/plain', body: Buffer.from('x') }), {
        code: 'validation_failed',
      });
      assert.equal((await server.app.chute.db.selectFrom('chute_files').select('id').execute()).length, 0);
      assert.deepEqual(finished, []);
    });

    test('get, list and url read any record; a missing or malformed id is null', async (t) => {
      const { server, user, files } = await hostSetup(t, storage);
      const other = await server.createUser();
      const put = (owner: number, name: string) =>
        files.put({ user: owner, fileName: name, fileType: 'text/plain', body: Buffer.from(`content of ${name}`) });
      const a = await put(user.id, 'a.txt');
      const b = await put(user.id, 'b.txt');
      const c = await put(other.id, 'c.txt');

      assert.deepEqual({ ...(await files.get(a.id))!, url: null }, { ...a, url: null });
      assert.equal((await files.get(String(c.id)))?.original_file_name, 'c.txt');
      assert.equal(await files.get(999_999), null);
      assert.equal(await files.get('not-an-id'), null);
      assert.equal(await files.get(-1), null);

      const page = await files.list({ user: user.id });
      assert.equal(page.count, 2);
      assert.deepEqual(
        page.results.map((file) => file.id),
        [b.id, a.id],
        "the user's files, newest first",
      );
      const second = await files.list({ user: user.id, limit: 1, offset: 1 });
      assert.deepEqual(
        second.results.map((file) => file.id),
        [a.id],
      );
      assert.equal(second.count, 2);

      const url = (await files.url(a.id, { expiresIn: 120 }))!;
      assert.ok(Math.abs(lifetimeOf(url) - 120) <= 2, `signed for 120 s, not ${lifetimeOf(url)}`);
      assert.deepEqual((await download(url)).bytes, Buffer.from('content of a.txt'));
      const byDefault = (await files.url(String(b.id)))!;
      assert.ok(Math.abs(lifetimeOf(byDefault) - server.app.chute.config.urlExpiry) <= 2);
      assert.equal(await files.url(999_999), null);
      await assert.rejects(files.url(a.id, { expiresIn: 0 }), { code: 'validation_failed' });
      await assert.rejects(files.url(a.id, { expiresIn: 8 * 24 * 3600 }), { code: 'validation_failed' });
    });

    test('delete removes object and record, tells onFileDeleted once (url null), and is false the second time', async (t) => {
      const { server, user, files, deleted } = await hostSetup(t, storage);
      const content = Buffer.from('to be deleted');
      const file = await files.put({ user: user.id, fileName: 'gone.txt', fileType: 'text/plain', body: content });
      const url = file.url!;
      assert.equal((await download(url)).status, 200);

      assert.equal(await files.delete(file.id), true);
      assert.equal(await files.get(file.id), null);
      assert.equal((await download(url)).status, 404, 'the object is gone');
      assert.equal(await files.delete(file.id), false);
      assert.equal(await files.delete('nope'), false);
      assert.deepEqual(deleted, [{ ...file, url: null }]);
      assert.equal((await server.app.chute.db.selectFrom('chute_files').select('id').execute()).length, 0);
    });
  });
}
