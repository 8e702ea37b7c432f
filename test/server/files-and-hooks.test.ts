// createChute(...).files (the host's own code, no HTTP) and the hooks, seen through a mounted
// handler: what the host stores is what its users list, and every change is told once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { type ChuteFileJson, createChute, createChuteHandler, UploadRefusedError } from '@chute/server';
import { startReceiver } from '../events/receiver.js';
import { defer, freePort, freshDatabase, s3Settings } from '../helpers.js';
import { HOST_TOKEN_HEADER, storageOption } from './suite.js';

for (const storage of ['local', 's3'] as const) {
  test(`files.put/get/list/url/delete on a mounted Chute (${storage}); the hooks and the webhooks hear each change once; onUploadStart refuses`, async (t) => {
    const heard = { finished: [] as ChuteFileJson[], deleted: [] as ChuteFileJson[] };
    const receiver = await startReceiver(t);
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}/uploads`;
    const chute = createChute({
      database: await freshDatabase(t),
      storage: await storageOption(t, storage),
      publicUrl,
      authenticate: (req) => {
        const token = (req as { headers: Record<string, string | undefined> }).headers[HOST_TOKEN_HEADER];
        return token ? { id: token } : null;
      },
      hooks: {
        onUploadStart: ({ fileName }) => {
          if (fileName === 'too-much.txt')
            throw new UploadRefusedError(403, 'quota_exceeded', 'Your quota is used up.');
        },
        onUploadFinished: (file) => void heard.finished.push(file),
        onFileDeleted: (file) => void heard.deleted.push(file),
      },
      webhooks: { urls: [receiver.url], secret: receiver.secret },
    });
    const server = createServer((req, res) => {
      if (!req.url?.startsWith('/uploads/')) return void res.writeHead(404).end();
      req.url = req.url.slice('/uploads'.length);
      chute.handler(req, res);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    defer(t, async () => {
      await new Promise((resolve) => server.close(resolve));
      await chute.close();
    });
    const asUser = { [HOST_TOKEN_HEADER]: 'user_8f2a', 'content-type': 'application/json' };

    const put = await chute.files.put({
      user: 'user_8f2a',
      fileName: 'invoice.txt',
      fileType: 'text/plain',
      body: Buffer.from('made by the host'),
    });
    assert.equal(put.is_valid, true);
    assert.equal(put.uploaded_by, 'user_8f2a');
    assert.deepEqual(
      heard.finished.map((file) => file.id),
      [put.id],
    );

    const listed = (await (await fetch(`${publicUrl}/api/files/`, { headers: asUser })).json()) as {
      results: ChuteFileJson[];
    };
    assert.deepEqual(
      listed.results.map((file) => file.id),
      [put.id],
      "the host's file is its user's",
    );
    assert.equal((await chute.files.list({ user: 'user_8f2a' })).count, 1);
    assert.equal((await chute.files.get(put.id))?.original_file_name, 'invoice.txt');
    const url = await chute.files.url(put.id, { expiresIn: 60 });
    const urlBase = storage === 'local' ? `${publicUrl}/media/` : `${s3Settings().endpoint}/`;
    assert.ok(url?.startsWith(urlBase), url ?? 'no url');
    assert.equal(await (await fetch(url!)).text(), 'made by the host');

    const refused = await fetch(`${publicUrl}/api/files/upload/direct/start/`, {
      method: 'POST',
      headers: asUser,
      body: JSON.stringify({ file_name: 'too-much.txt', file_type: 'text/plain' }),
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), { code: 'quota_exceeded', message: 'Your quota is used up.' });
    assert.equal((await chute.files.list({ user: 'user_8f2a' })).count, 1, 'no record for the refused upload');

    assert.equal(await chute.files.delete(put.id), true);
    assert.equal(await chute.files.delete(put.id), false);
    assert.deepEqual(
      heard.deleted.map((file) => file.id),
      [put.id],
    );
    assert.equal(await chute.files.get(put.id), null);
    assert.equal(await chute.files.url(put.id), null);

    const events = await receiver.waitFor(2);
    assert.deepEqual(
      events.map((event) => [event.type, event.data.id, event.data.uploaded_by, event.verified]).sort(),
      [
        ['file.deleted', put.id, 'user_8f2a', true],
        ['file.finished', put.id, 'user_8f2a', true],
      ],
    );
  });
}

test("onUploadStart gets the host's own user object; a failing onUploadFinished goes to the host's logger, the upload stays valid", async (t) => {
  interface ShopUser {
    id: number;
    plan: 'free' | 'pro';
  }
  const users = new Map<string, ShopUser>([
    ['free-token', { id: 7, plan: 'free' }],
    ['pro-token', { id: 8, plan: 'pro' }],
  ]);
  const seen: ShopUser[] = [];
  const logged: unknown[][] = [];
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const handler = createChuteHandler({
    database: await freshDatabase(t),
    storage: await storageOption(t, 'local'),
    publicUrl,
    authenticate: (req) => users.get(String(req.headers[HOST_TOKEN_HEADER])) ?? null,
    hooks: {
      // the user's type is what authenticate returns: its plan is there to decide on
      onUploadStart: ({ user, fileSize }) => {
        seen.push(user);
        if (user.plan === 'free' && (fileSize ?? 0) > 100)
          throw new UploadRefusedError(403, 'upgrade_required', 'Free accounts upload up to 100 bytes.');
      },
      onUploadFinished: () => {
        throw new Error('the shop is down');
      },
    },
    logger: { error: (...args: unknown[]) => void logged.push(args), warn: () => {} },
  });
  const server = createServer(handler);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  defer(t, async () => {
    await new Promise((resolve) => server.close(resolve));
    await handler.close();
  });
  const start = (token: string, size: number) =>
    fetch(`${publicUrl}/api/files/upload/direct/start/`, {
      method: 'POST',
      headers: { [HOST_TOKEN_HEADER]: token, 'content-type': 'application/json' },
      body: JSON.stringify({ file_name: 'a.txt', file_type: 'text/plain', file_size: size }),
    });

  const refused = await start('free-token', 500);
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as { code: string }).code, 'upgrade_required');
  assert.deepEqual(seen, [{ id: 7, plan: 'free' }], "the host's object, as authenticate returned it");

  const started = await start('pro-token', 5);
  assert.equal(started.status, 200);
  const { id, url } = (await started.json()) as { id: number; url: string };
  const form = new FormData();
  form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'a.txt');
  const sent = await fetch(url, { method: 'POST', headers: { [HOST_TOKEN_HEADER]: 'pro-token' }, body: form });
  assert.equal(sent.status, 200);
  const finished = await fetch(`${publicUrl}/api/files/upload/direct/finish/`, {
    method: 'POST',
    headers: { [HOST_TOKEN_HEADER]: 'pro-token', 'content-type': 'application/json' },
    body: JSON.stringify({ file_id: id }),
  });
  assert.equal(finished.status, 200, 'a failing onUploadFinished does not fail the finish');
  assert.equal(((await finished.json()) as { is_valid: boolean }).is_valid, true);
  assert.equal(logged.length, 1);
  assert.match(JSON.stringify(logged[0]), /onUploadFinished/);
  const [details] = logged[0] ?? [];
  assert.match(String((details as { err?: Error } | undefined)?.err?.message), /the shop is down/);
});
