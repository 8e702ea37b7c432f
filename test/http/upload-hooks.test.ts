// The host's upload hooks, seen through the standalone app's HTTP API: onUploadStart refuses
// before a record exists (its status and code reach the client as JSON), onUploadFinished and
// onFileDeleted hear of each file exactly once, and a hook that throws never costs an upload.
// The webhooks ride on the same changes: where a test's app sends them to a receiver, the
// receiver gets exactly what the hooks heard, each event once and signed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import type { UploadHooks, UploadStartEvent } from '../../src/core/files/hooks.js';
import type { FileJson } from '../../src/core/files/json.js';
import { UploadRefusedError } from '../../src/errors.js';
import { buildApp } from '../../src/http/app.js';
import { startReceiver } from '../events/receiver.js';
import { build, createUser, defer, filePathsUnder, multipart, postForm, testEnv, type TestUser } from '../helpers.js';

/** Hooks that record what they hear; onUploadStart throws `refusal` while one is set. */
function recorder() {
  const heard = { started: [] as UploadStartEvent[], finished: [] as FileJson[], deleted: [] as FileJson[] };
  const state: { refusal: Error | null } = { refusal: null };
  const hooks: UploadHooks = {
    onUploadStart: (event) => {
      heard.started.push(event);
      if (state.refusal) throw state.refusal;
    },
    onUploadFinished: (file) => void heard.finished.push(file),
    onFileDeleted: (file) => void heard.deleted.push(file),
  };
  return { hooks, heard, state };
}

/** A file's JSON without its url, which is signed anew each time. */
const withoutUrl = ({ url: _url, ...file }: FileJson | Record<string, unknown>) => file;

/**
 * A webhook receiver for an app (its WEBHOOK_URLS and WEBHOOK_SECRET); `matches(heard)` waits for
 * the events and checks they are the hooks' own: same types, files and JSON, each once and signed.
 */
async function webhooks(t: TestContext) {
  const receiver = await startReceiver(t);
  return {
    env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: receiver.secret },
    async matches(heard: { finished: FileJson[]; deleted: FileJson[] }) {
      const expected = [
        ...heard.finished.map((file) => ['file.finished', withoutUrl(file)]),
        ...heard.deleted.map((file) => ['file.deleted', withoutUrl(file)]),
      ];
      await receiver.waitFor(expected.length);
      await new Promise((resolve) => setTimeout(resolve, 300)); // nothing more comes
      const arrived = receiver.requests;
      assert.ok(
        arrived.every((event) => event.verified),
        'standardwebhooks accepts every signature',
      );
      assert.equal(new Set(arrived.map((event) => event.id)).size, arrived.length, 'one webhook-id per event');
      const key = (entry: unknown) => JSON.stringify(entry);
      assert.deepEqual(
        arrived
          .map((event) => [event.type, withoutUrl(event.data)])
          .map(key)
          .sort(),
        expected.map(key).sort(),
      );
      for (const event of arrived.filter((event) => event.type === 'file.deleted')) assert.equal(event.data.url, null);
    },
  };
}

const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

const json = (app: FastifyInstance, user: TestUser, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url, headers: user.headers, ...(payload && { payload }) });

function standardUpload(app: FastifyInstance, user: TestUser, url = '/api/files/upload/standard/', name = 'notes.txt') {
  const form = multipart({ name, content: `the content of ${name}`, type: 'text/plain' });
  return app.inject({ method: 'POST', url, headers: { ...user.headers, ...form.headers }, payload: form.payload });
}

/** Every way a user starts an upload, each answering whatever the start answered. */
const STARTS: Array<[string, (app: FastifyInstance, user: TestUser) => Promise<LightMyRequestResponse>]> = [
  [
    'direct start',
    (app, user) =>
      json(app, user, 'POST', '/api/files/upload/direct/start/', {
        file_name: 'a.txt',
        file_type: 'text/plain',
        file_size: 10,
      }),
  ],
  ['standard upload', (app, user) => standardUpload(app, user)],
  [
    'multipart create',
    (app, user) =>
      json(app, user, 'POST', '/api/files/upload/multipart/', {
        file_name: 'a.txt',
        file_type: 'text/plain',
        file_size: 10,
      }),
  ],
  ['Uppy params', (app, user) => json(app, user, 'GET', '/api/uppy/s3/params?filename=a.txt&type=text%2Fplain')],
  [
    'Uppy multipart create',
    (app, user) => json(app, user, 'POST', '/api/uppy/s3/multipart', { filename: 'a.txt', type: 'text/plain' }),
  ],
];

const fileCount = async (app: FastifyInstance) =>
  (await app.chute.db.selectFrom('chute_files').select('id').execute()).length;

describe('onUploadStart', () => {
  test('a refusal (UploadRefusedError 403 quota_exceeded) is answered as JSON on every way to start, and no record or object is written', async (t) => {
    const { hooks, heard, state } = recorder();
    const app = await build(t, { hooks });
    const alice = await createUser(app);
    state.refusal = new UploadRefusedError(403, 'quota_exceeded', 'You have used your 1 GB.');
    for (const [name, start] of STARTS) {
      const response = await start(app, alice);
      assert.equal(response.statusCode, 403, `${name}: ${response.body}`);
      assert.deepEqual(response.json(), { code: 'quota_exceeded', message: 'You have used your 1 GB.' }, name);
    }
    assert.equal(heard.started.length, STARTS.length, 'asked once per start');
    assert.equal(await fileCount(app), 0);
    assert.deepEqual(await filePathsUnder(app.chute.config.mediaRoot), []);

    // allowed again: each start goes through, and was asked with who and what
    state.refusal = null;
    for (const [name, start] of STARTS) {
      const response = await start(app, alice);
      assert.ok(response.statusCode < 300, `${name}: ${response.body}`);
    }
    assert.equal(await fileCount(app), STARTS.length);
    assert.deepEqual(heard.started[STARTS.length], {
      user: { id: String(alice.id), isStaff: false },
      fileName: 'a.txt',
      fileType: 'text/plain',
      fileSize: 10,
    });
    assert.deepEqual(heard.started[STARTS.length + 1], {
      user: { id: String(alice.id), isStaff: false },
      fileName: 'notes.txt',
      fileType: 'text/plain',
    });
  });

  test('any error with a 4xx statusCode and a snake_case code is answered as it says; a plain Error is the host bug: 500 internal_error without its message', async (t) => {
    const { hooks, state } = recorder();
    const app = await build(t, { hooks });
    const alice = await createUser(app);
    const [, directStart] = STARTS[0]!;

    state.refusal = Object.assign(new Error('Uploads are closed on Sundays.'), { statusCode: 423, code: 'closed' });
    const closed = await directStart(app, alice);
    assert.equal(closed.statusCode, 423);
    assert.deepEqual(closed.json(), { code: 'closed', message: 'Uploads are closed on Sundays.' });

    state.refusal = new Error('db password is hunter2');
    const broken = await directStart(app, alice);
    assert.equal(broken.statusCode, 500);
    assert.equal(broken.json().code, 'internal_error');
    assert.doesNotMatch(broken.body, /hunter2/);
    assert.equal(await fileCount(app), 0);
  });

  test('the admin is trusted: adding a file as staff does not ask onUploadStart', async (t) => {
    const { hooks, heard, state } = recorder();
    const app = await build(t, { hooks });
    const staff = await createUser(app, { staff: true });
    state.refusal = new UploadRefusedError(403, 'quota_exceeded', 'No.');
    const added = await standardUpload(app, staff, '/api/admin/files/');
    assert.equal(added.statusCode, 201, added.body);
    assert.deepEqual(heard.started, []);
    assert.equal(heard.finished.length, 1);
  });

  test('UploadRefusedError takes a 4xx status and a snake_case code only', () => {
    assert.throws(() => new UploadRefusedError(500, 'quota_exceeded', 'x'), RangeError);
    assert.throws(() => new UploadRefusedError(403, 'Quota Exceeded', 'x'), RangeError);
  });
});

describe('onUploadFinished and onFileDeleted', () => {
  test('a direct upload is announced once, by the finish that made it valid, even when two finishes race', async (t) => {
    const { hooks, heard } = recorder();
    const receiver = await webhooks(t);
    const app = await build(t, { hooks, env: receiver.env });
    const alice = await createUser(app);
    const start = await json(app, alice, 'POST', '/api/files/upload/direct/start/', {
      file_name: 'photo.txt',
      file_type: 'text/plain',
    });
    const { id, url } = start.json();
    const form = multipart({ name: 'photo.txt', content: 'some text', type: 'text/plain' });
    const sent = await app.inject({
      method: 'POST',
      url: pathOf(url),
      headers: { ...alice.headers, ...form.headers },
      payload: form.payload,
    });
    assert.equal(sent.statusCode, 200, sent.body);
    assert.equal(heard.finished.length, 0, 'received is not valid yet');

    const finish = () => json(app, alice, 'POST', '/api/files/upload/direct/finish/', { file_id: id });
    const answers = await Promise.all([finish(), finish(), finish()]);
    for (const answer of answers) assert.equal(answer.statusCode, 200, answer.body);
    assert.equal((await finish()).statusCode, 200);
    assert.equal(heard.finished.length, 1);
    assert.deepEqual(withoutUrl(heard.finished[0]!), withoutUrl(answers[0]!.json()));
    assert.equal(heard.finished[0]!.is_valid, true);
    assert.ok(heard.finished[0]!.url);
    await receiver.matches(heard);
  });

  test('a standard upload, a multipart complete and an Uppy single PUT are each announced once', async (t) => {
    const { hooks, heard } = recorder();
    const receiver = await webhooks(t);
    const app = await build(t, { hooks, env: receiver.env });
    const alice = await createUser(app);

    const standard = await standardUpload(app, alice);
    assert.equal(standard.statusCode, 201, standard.body);
    assert.deepEqual(heard.finished.map(withoutUrl), [withoutUrl(standard.json())]);

    const content = randomBytes(1000);
    const created = await json(app, alice, 'POST', '/api/files/upload/multipart/', {
      file_name: 'big.bin',
      file_type: 'application/octet-stream',
      file_size: content.length,
    });
    const { id } = created.json();
    const signed = await json(app, alice, 'POST', `/api/files/upload/multipart/${id}/sign/`, {
      parts: [{ part_number: 1 }],
    });
    const [part] = signed.json().parts;
    const put = await app.inject({ method: 'PUT', url: pathOf(part.url), headers: part.headers, payload: content });
    assert.equal(put.statusCode, 200, put.body);
    const complete = () =>
      json(app, alice, 'POST', `/api/files/upload/multipart/${id}/complete/`, {
        parts: [{ part_number: 1, etag: put.headers.etag }],
      });
    const completed = await complete();
    assert.equal(completed.statusCode, 200, completed.body);
    assert.equal((await complete()).statusCode, 200, 'a repeated complete answers the same');
    assert.equal(heard.finished.length, 2);
    assert.deepEqual(withoutUrl(heard.finished[1]!), withoutUrl(completed.json()));

    const params = await json(app, alice, 'GET', '/api/uppy/s3/params?filename=small.txt&type=text%2Fplain');
    const { url, headers } = params.json();
    const single = await app.inject({ method: 'PUT', url: pathOf(url), headers, payload: 'small text' });
    assert.ok(single.statusCode < 300, single.body);
    const listed = await json(app, alice, 'GET', '/api/files/');
    assert.equal(listed.json().count, 3);
    assert.equal(heard.finished.length, 3, 'reading the list settles nothing twice');
    assert.equal(heard.finished[2]!.original_file_name, 'small.txt');
    assert.deepEqual(heard.deleted, []);
    await receiver.matches(heard);
  });

  test('admin add and replace are announced; deletes by the owner and by staff are announced once with url null; a pending upload deleted is not', async (t) => {
    const { hooks, heard } = recorder();
    const receiver = await webhooks(t);
    const app = await build(t, { hooks, env: receiver.env });
    const staff = await createUser(app, { staff: true });
    const alice = await createUser(app);

    const added = await standardUpload(app, staff, '/api/admin/files/', 'first.txt');
    assert.equal(added.statusCode, 201, added.body);
    const { id } = added.json();
    const replaced = await standardUpload(app, staff, `/api/admin/files/${id}/replace/`, 'second.txt');
    assert.equal(replaced.statusCode, 200, replaced.body);
    assert.deepEqual(
      heard.finished.map((file) => [file.id, file.original_file_name]),
      [
        [id, 'first.txt'],
        [id, 'second.txt'],
      ],
    );

    const own = (await standardUpload(app, alice)).json();
    const deletions = await Promise.all([1, 2].map(() => json(app, alice, 'DELETE', `/api/files/${own.id}/`)));
    // two deletes racing: either may answer 204 (or the later 404), the host hears of it once
    for (const deletion of deletions) assert.ok([204, 404].includes(deletion.statusCode), deletion.body);
    assert.equal((await json(app, staff, 'DELETE', `/api/admin/files/${id}/`)).statusCode, 204);
    assert.deepEqual(heard.deleted[0], { ...own, url: null }, 'the record as it was, with nothing left to download');
    assert.deepEqual(
      heard.deleted.map((file) => [file.id, file.original_file_name, file.is_valid, file.url]),
      [
        [own.id, 'notes.txt', true, null],
        [id, 'second.txt', true, null],
      ],
    );

    const pending = await json(app, alice, 'POST', '/api/files/upload/direct/start/', {
      file_name: 'never.txt',
      file_type: 'text/plain',
    });
    assert.equal((await json(app, alice, 'DELETE', `/api/files/${pending.json().id}/`)).statusCode, 204);
    assert.equal(heard.deleted.length, 2, 'a file that never became valid was never announced, nor is its delete');
    await receiver.matches(heard);
  });
});

describe('hooks with S3 storage (RGW)', () => {
  test('a direct upload to the bucket is announced once by its finish; its delete once', async (t) => {
    const { hooks, heard } = recorder();
    const receiver = await webhooks(t);
    const app = await build(t, { storage: 's3', hooks, env: receiver.env });
    const alice = await createUser(app);
    const content = randomBytes(5000);
    const start = await json(app, alice, 'POST', '/api/files/upload/direct/start/', {
      file_name: 'data.bin',
      file_type: 'application/octet-stream',
      file_size: content.length,
    });
    assert.equal(start.statusCode, 200, start.body);
    assert.equal(heard.started.length, 1);
    const { id, url, fields } = start.json();
    const posted = await postForm(url, fields, { name: 'data.bin', content, type: 'application/octet-stream' });
    assert.equal(posted.status, 204, await posted.text());

    const finish = () => json(app, alice, 'POST', '/api/files/upload/direct/finish/', { file_id: id });
    const answers = await Promise.all([finish(), finish()]);
    for (const answer of answers) assert.equal(answer.statusCode, 200, answer.body);
    assert.equal(heard.finished.length, 1);
    assert.deepEqual(withoutUrl(heard.finished[0]!), withoutUrl(answers[0]!.json()));
    const downloaded = await fetch(heard.finished[0]!.url!);
    assert.deepEqual(Buffer.from(await downloaded.arrayBuffer()), content, "the hook's url downloads the file");

    assert.equal((await json(app, alice, 'DELETE', `/api/files/${id}/`)).statusCode, 204);
    assert.deepEqual(
      heard.deleted.map((file) => [file.id, file.url]),
      [[id, null]],
    );
    await receiver.matches(heard);
  });
});

/** An app whose pino logger writes JSON lines into `lines()`. */
async function appWithLog(t: TestContext, hooks: UploadHooks) {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      raw.push(String(chunk));
      callback();
    },
  });
  const app = await buildApp({ config: loadConfig(await testEnv(t)), logger: { level: 'info', stream }, hooks });
  defer(t, () => app.close());
  await app.ready();
  const lines = () =>
    raw
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, any>);
  return { app, lines };
}

describe('a hook that throws', () => {
  test('onUploadFinished and onFileDeleted throwing are logged; the upload stays valid and the delete is done', async (t) => {
    const { app, lines } = await appWithLog(t, {
      onUploadFinished: () => {
        throw new Error('the host is down');
      },
      onFileDeleted: async () => {
        throw new Error('the host is still down');
      },
    });
    const alice = await createUser(app);
    const uploaded = await standardUpload(app, alice);
    assert.equal(uploaded.statusCode, 201, uploaded.body);
    const { id } = uploaded.json();
    const read = await json(app, alice, 'GET', `/api/files/${id}/`);
    assert.equal(read.json().is_valid, true);

    const deleted = await json(app, alice, 'DELETE', `/api/files/${id}/`);
    assert.equal(deleted.statusCode, 204);
    assert.equal((await json(app, alice, 'GET', `/api/files/${id}/`)).statusCode, 404);
    assert.deepEqual(await filePathsUnder(app.chute.config.mediaRoot), []);

    const failures = lines().filter((line) => line.hook);
    assert.deepEqual(
      failures.map((line) => [line.level, line.hook, line.fileId, line.err?.message]),
      [
        [50, 'onUploadFinished', id, 'the host is down'],
        [50, 'onFileDeleted', id, 'the host is still down'],
      ],
    );
  });
});
