// The services the routes call, through their public functions: what each decides on its own,
// without HTTP (the media serving policy, Uppy's upload lookup, the undo after a stored upload,
// and the admin list's uploaders coming from a user system it does not know).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { adminFileCreate, adminFileList, type AdminFilesContext, type Uploaders } from '../../src/core/files/admin.js';
import { mediaDownload } from '../../src/core/files/media.js';
import { findFileById } from '../../src/core/files/repository.js';
import { fileStandardUpload, fileStandardUploadChecked } from '../../src/core/files/services.js';
import { uppyAbort, uppyMultipartCreate } from '../../src/core/multipart/uppy.js';
import type { LocalStorage } from '../../src/core/storage/local.js';
import { AppError } from '../../src/errors.js';
import { build, createUser, filePathsUnder } from '../helpers.js';

const body = (text: string) => Readable.from([Buffer.from(text)]);

describe('mediaDownload', () => {
  test('a signed link to an HTML file is served as a sandboxed attachment; a bad signature, a pending file and a file gone from disk are refused', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const storage = app.chute.storage as LocalStorage;
    const media = { db: app.chute.db, storage };
    const file = await fileStandardUpload(app.chute.files, {
      uploadedBy: String(alice.id),
      body: body('<script>alert(1)</script>'),
      fileName: 'page.html',
    });
    const link = new URL(
      await storage.downloadUrl({
        key: file.file,
        fileName: file.original_file_name,
        contentType: file.file_type,
        expiresIn: 60,
      }),
    );
    const signed = {
      key: file.file,
      expires: Number(link.searchParams.get('expires')),
      signature: link.searchParams.get('signature')!,
    };

    const download = await mediaDownload(media, signed);
    assert.equal(download.key, file.file);
    assert.equal(download.root, storage.root);
    assert.equal(download.headers['content-type'], 'application/octet-stream');
    assert.match(download.headers['content-disposition']!, /^attachment; filename="page.html"/);
    assert.equal(download.headers['content-security-policy'], "default-src 'none'; sandbox");
    assert.equal(download.headers['x-content-type-options'], 'nosniff');

    await assert.rejects(mediaDownload(media, { ...signed, signature: `${signed.signature.slice(0, -2)}xx` }), {
      code: 'permission_denied',
    });
    await app.chute.db
      .updateTable('chute_files')
      .set({ upload_finished_at: null, state: 'pending' })
      .where('id', '=', file.id)
      .execute();
    await assert.rejects(mediaDownload(media, signed), { code: 'not_found' });
    await app.chute.db
      .updateTable('chute_files')
      .set({ upload_finished_at: new Date().toISOString(), state: 'valid' })
      .where('id', '=', file.id)
      .execute();
    await storage.delete(file.file);
    await assert.rejects(mediaDownload(media, signed), { code: 'not_found' });
  });

  test('plain text is served inline with its own type', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const storage = app.chute.storage as LocalStorage;
    const file = await fileStandardUpload(app.chute.files, {
      uploadedBy: String(alice.id),
      body: body('just text'),
      fileName: 'notes.txt',
    });
    const link = new URL(
      await storage.downloadUrl({
        key: file.file,
        fileName: file.original_file_name,
        contentType: file.file_type,
        expiresIn: 60,
      }),
    );
    const download = await mediaDownload(
      { db: app.chute.db, storage },
      {
        key: file.file,
        expires: Number(link.searchParams.get('expires')),
        signature: link.searchParams.get('signature')!,
      },
    );
    assert.match(download.headers['content-type']!, /^text\/plain/);
    assert.match(download.headers['content-disposition']!, /^inline/);
  });
});

describe('Uppy uploads by (uploadId, key)', () => {
  test('a wrong key or another user answers not_found and leaves the upload; the right pair aborts it', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const bob = await createUser(app);
    const actor = { id: String(alice.id), isStaff: false };
    const { key, uploadId } = await uppyMultipartCreate(app.chute.files, {
      actor,
      fileName: 'movie.mp4',
      type: 'video/mp4',
      size: '6000000',
    });
    const file = await app.chute.db
      .selectFrom('chute_files')
      .selectAll()
      .where('file', '=', key)
      .executeTakeFirstOrThrow();
    assert.equal(Number(file.file_size), 6_000_000);

    await assert.rejects(uppyAbort(app.chute.files, { actor, uploadId, key: `${key}x` }), {
      code: 'not_found',
      message: 'No such upload.',
    });
    await assert.rejects(uppyAbort(app.chute.files, { actor: { id: String(bob.id), isStaff: false }, uploadId, key }), {
      code: 'not_found',
    });
    assert.ok(await findFileById(app.chute.db, Number(file.id)));
    await uppyAbort(app.chute.files, { actor, uploadId, key });
    assert.equal(await findFileById(app.chute.db, Number(file.id)), undefined);
  });
});

describe('fileStandardUploadChecked', () => {
  test('a request found wrong after its bytes were stored leaves neither record nor object', async (t) => {
    const app = await build(t);
    const alice = await createUser(app);
    const actor = { id: String(alice.id), isStaff: false };
    const media = app.chute.config.mediaRoot;
    let storedThen: string[] = [];
    let rowsThen = -1;
    const refused = new AppError('payload_too_large', 'Send one file per request.');
    await assert.rejects(
      fileStandardUploadChecked(app.chute.files, {
        actor,
        body: body('hello'),
        fileName: 'a.txt',
        afterStored: async () => {
          storedThen = await filePathsUnder(join(media, 'files'));
          // the record is written only once the request is known to be right: none to take back
          rowsThen = (await app.chute.db.selectFrom('chute_files').select('id').execute()).length;
          throw refused;
        },
      }),
      refused,
    );
    assert.equal(storedThen.length, 1, 'the bytes were stored when the request turned out wrong');
    assert.equal(rowsThen, 0);
    assert.deepEqual(await filePathsUnder(join(media, 'files')), [], 'and are gone');
    assert.equal(
      await app.chute.db
        .selectFrom('chute_files')
        .select('id')
        .where('uploaded_by', '=', String(alice.id))
        .executeTakeFirst(),
      undefined,
    );
  });
});

describe('the admin list and its uploaders', () => {
  test('emails, existence and the uploader order come from the Uploaders given, not from a users table', async (t) => {
    const app = await build(t);
    const first = await createUser(app);
    const second = await createUser(app);
    const db = app.chute.db;
    const uploaders: Uploaders = {
      emailsOf: async (ids) => new Map(ids.map((id) => [id, `member-${id}@host.test`])),
      exists: async (id) => id !== '999999',
      // the host orders its users its own way: here the newest first
      sortKeys: () =>
        db
          .selectFrom('chute_users')
          .select([
            sql<string>`cast(id as varchar(255))`.as('id'),
            sql<string>`cast(1000000 - id as text)`.as('sort_key'),
          ])
          .as('uploaders'),
    };
    const admin: AdminFilesContext = { ...app.chute.files, uploaders };
    const common = { body: body('x'), fileName: 'x.txt', maxSize: 1000 };
    const a = await adminFileCreate(admin, { ...common, uploadedBy: String(first.id) });
    assert.equal(a.uploaded_by_email, `member-${first.id}@host.test`);
    const b = await adminFileCreate(admin, { ...common, body: body('y'), uploadedBy: String(second.id) });
    await assert.rejects(adminFileCreate(admin, { ...common, body: body('z'), uploadedBy: '999999' }), {
      code: 'validation_failed',
    });

    const { files } = await adminFileList(admin, { sort: 'uploaded_by', order: 'asc', limit: 10, offset: 0 });
    assert.deepEqual(
      files.map((file) => [file.id, file.uploaded_by_email]),
      [
        [b.id, `member-${second.id}@host.test`],
        [a.id, `member-${first.id}@host.test`],
      ],
    );
  });
});
