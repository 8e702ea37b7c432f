// Malformed requests over every endpoint (the corpus is bad-input.cases.ts): each must be a clean
// 4xx with a JSON {code, message}, never a 5xx, and none may leave a row, a file or an object.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, test } from 'node:test';
import { CASES } from './bad-input.cases.js';
import {
  buildApp2 as build,
  CORPUS_ENV,
  FILE,
  form,
  localUrl,
  runCases,
  setupCtx,
  snapshot,
  START,
  FINISH,
  type Case,
} from './support.js';

const S3_AREAS = new Set<Case['area']>(['start', 'finish', 'standard']);
const sound = CASES.filter((c) => !c.bug);
const s3Sound = sound.filter((c) => S3_AREAS.has(c.area) && !c.s3Bug);
const tally = { tried: 0, failed: 0, bugCases: 0, bugFailing: 0 };

after(() => {
  console.log(
    `bad-input corpus: ${tally.tried} cases, ${tally.failed} failures` +
      ` (plus ${tally.bugCases} cases of known server bugs run as todo, ${tally.bugFailing} of them still failing)`,
  );
});

const explain = (failures: string[]) => `${failures.length} bad answers:\n  ${failures.join('\n  ')}`;

describe('bad input', () => {
  test(`the corpus on local storage: ${sound.length} malformed requests, each a clean 4xx that changes nothing`, async (t) => {
    const app = await build(t, { env: CORPUS_ENV });
    const ctx = await setupCtx(app);
    const before = await snapshot(app);
    assert.ok(before.rows.length >= 3 && before.media.length === 1, 'setup: two pending files and one received');

    const failures = await runCases(ctx, sound);
    tally.tried += sound.length;
    tally.failed += failures.length;
    assert.deepEqual(failures, [], explain(failures));
    const afterwards = await snapshot(app);
    assert.deepEqual(afterwards.rows, before.rows, 'no file row was added or changed');
    assert.deepEqual(afterwards.media, before.media, 'no file was added to the media folder (temp files included)');
  });

  test('the start, finish and standard cases against S3 (RGW): clean 4xx, no row, an empty bucket', async (t) => {
    const app = await build(t, { storage: 's3', env: CORPUS_ENV });
    const ctx = await setupCtx(app);
    const before = await snapshot(app);
    assert.deepEqual(before.bucket, []);
    const failures = await runCases(ctx, s3Sound);
    tally.tried += s3Sound.length;
    tally.failed += failures.length;
    assert.deepEqual(failures, [], explain(failures));
    const afterwards = await snapshot(app);
    assert.deepEqual(afterwards.rows, before.rows, 'no file row was added or changed');
    assert.deepEqual(afterwards.bucket, [], 'the bucket is still empty');
  });

  test('local storage holds a direct upload to the declared file_size, as the S3 policy does (B6)', async (t) => {
    const app = await build(t, { env: CORPUS_ENV });
    const ctx = await setupCtx(app);
    for (const content of ['four', 'sixteen bytes!!!']) {
      const start = await app.inject({
        method: 'POST',
        url: START,
        headers: ctx.alice.headers,
        payload: { file_name: 'a.txt', file_type: 'text/plain', file_size: 8 },
      });
      const body = form([{ ...FILE, content }]);
      const upload = await app.inject({
        method: 'POST',
        url: localUrl(start.json().id),
        headers: { ...ctx.alice.headers, ...body.headers },
        payload: body.payload,
      });
      const finish = await app.inject({
        method: 'POST',
        url: FINISH,
        headers: ctx.alice.headers,
        payload: { file_id: start.json().id },
      });
      assert.ok(
        upload.statusCode >= 400 || finish.statusCode >= 400,
        `${content.length} bytes for a declared 8 became a valid file: ${upload.statusCode}, ${finish.statusCode} ${finish.body}`,
      );
    }
  });

  test('over real HTTP, a header past the server limit is answered with {code, message} (B7)', async (t) => {
    const app = await build(t);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/files/', headers: { authorization: `Bearer ${'a'.repeat(64 * 1024)}` } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(answer.status, 431);
    const body = JSON.parse(answer.body) as { code?: unknown; message?: unknown };
    assert.equal(typeof body.code, 'string', answer.body);
    assert.equal(typeof body.message, 'string');
  });
});
