// With webhooks on, a change that makes a file valid records its event on the file's own row (one
// statement, no outbox row on the request's path); the delivery loop writes it to the outbox later.
// These run the core without a delivery loop, so each step is seen as it is.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { listDeliveries } from '../../src/core/events/outbox.js';
import { writeOwedEvents } from '../../src/core/files/hooks.js';
import { findFileById } from '../../src/core/files/repository.js';
import { fileDelete, type FilesContext, fileStandardUpload } from '../../src/core/files/services.js';
import { build, createUser } from '../helpers.js';

const URLS = ['http://a.test/hooks', 'http://b.test/hooks'];

async function setup(t: Parameters<typeof build>[0]) {
  const app = await build(t); // no WEBHOOK_URLS: no loop of its own
  const alice = await createUser(app);
  const ctx: FilesContext = { ...app.chute.files, events: { urls: URLS, wake() {} } };
  const upload = (name: string, on: FilesContext = ctx) =>
    fileStandardUpload(on, { uploadedBy: String(alice.id), body: Readable.from([Buffer.from(name)]), fileName: name });
  return { app, ctx, alice, upload };
}

const payloads = async (ctx: FilesContext) =>
  (await listDeliveries(ctx.db, { limit: 100 }))
    .reverse()
    .map((delivery) => ({ url: delivery.url, id: delivery.eventId, ...JSON.parse(delivery.payload) }));

test('a file made valid owes its event on its own row; the loop writes it once per endpoint, oldest first, dated when the file became valid', async (t) => {
  const { ctx, upload } = await setup(t);
  const first = await upload('first.txt');
  const second = await upload('second.txt');
  assert.ok(first.pending_event_at !== null, 'the mark is written with the record');
  assert.deepEqual(await payloads(ctx), [], 'nothing in the outbox on the request path');

  assert.equal(await writeOwedEvents(ctx, { limit: 1 }), 1);
  const written = await payloads(ctx);
  assert.deepEqual(
    written.map((event) => [event.url, event.type, event.data.id]),
    URLS.map((url) => [url, 'file.finished', first.id]),
  );
  assert.equal(written[0].id, written[1].id, 'one webhook-id for the event, whatever the endpoint');
  assert.equal(written[0].timestamp, first.upload_finished_at!.toISOString());
  assert.equal(written[0].data.is_valid, true);
  assert.equal((await findFileById(ctx.db, first.id))!.pending_event_at, null, 'unmarked with the write');

  assert.equal(await writeOwedEvents(ctx, { limit: 32 }), 1, 'the second file, left for the next round');
  assert.equal(await writeOwedEvents(ctx, { limit: 32 }), 0, 'none owed twice');
  assert.deepEqual(
    (await payloads(ctx)).map((event) => event.data.id),
    [first.id, first.id, second.id, second.id],
  );
});

test('a file deleted before its event was written: its delete writes the finished event, then the deleted one', async (t) => {
  const { ctx, upload, alice } = await setup(t);
  const file = await upload('short-lived.txt');
  await fileDelete(ctx, { actor: { id: String(alice.id), isStaff: false }, fileId: file.id });

  const written = (await payloads(ctx)).filter((event) => event.url === URLS[0]);
  assert.deepEqual(
    written.map((event) => [event.type, event.data.id]),
    [
      ['file.finished', file.id],
      ['file.deleted', file.id],
    ],
  );
  assert.equal(written[1].data.url, null);
  assert.equal(await writeOwedEvents(ctx, { limit: 32 }), 0, 'nothing left owed');
});

test('with webhooks off no file is marked, and nothing is written for it later', async (t) => {
  const { app, ctx, upload } = await setup(t);
  const file = await upload('quiet.txt', app.chute.files);
  assert.equal(file.pending_event_at, null);
  assert.equal(await writeOwedEvents(ctx, { limit: 32 }), 0);
});
