// @chute/client/checksums: hash-wasm (browsers), node:crypto (Node) and the Web Worker protocol
// give the same MD5s and SHA-256 as OpenSSL.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createChecksums as wasmChecksums } from '../src/checksums/index.js';
import { createChecksums as nodeChecksums } from '../src/checksums/node.js';
import { serveChecksums, workerChecksums, type ChecksumsScope } from '../src/checksums/worker.js';
import type { ChecksumsFactory } from '../src/types.js';

const MiB = 2 ** 20;
const data = randomBytes(5 * MiB + 777);
const cuts = [0, 2 * MiB, 4 * MiB, data.length];
const file = new Blob([data]);
const expected = {
  md5s: cuts.slice(1).map((end, i) => createHash('md5').update(data.subarray(cuts[i], end)).digest('base64')),
  sha256: createHash('sha256').update(data).digest('hex'),
};

async function run(factory: ChecksumsFactory) {
  const checks = await factory();
  const md5s: string[] = [];
  for (let i = 1; i < cuts.length; i++) md5s.push(await checks.part(file.slice(cuts[i - 1], cuts[i])));
  const result = { md5s, sha256: await checks.digest() };
  checks.close?.();
  return result;
}

test('hash-wasm: the MD5 of each part (base64) and the SHA-256 of all of them (hex)', async () => {
  assert.deepEqual(await run(wasmChecksums), expected);
});

test('node:crypto: the same', async () => {
  assert.deepEqual(await run(nodeChecksums), expected);
});

/** A Worker whose other side runs here, messages passed asynchronously as between threads. */
function fakeWorker(serve: (scope: ChecksumsScope) => void) {
  const page = {
    onmessage: null as ((event: { data: unknown }) => void) | null,
    onerror: null as ((event: { message: string; preventDefault(): void }) => void) | null,
    terminated: false,
  };
  const scope: ChecksumsScope = {
    onmessage: null,
    postMessage: (message) => setTimeout(() => page.onmessage?.({ data: message })),
  };
  serve(scope);
  const worker = {
    set onmessage(fn: (event: { data: unknown }) => void) {
      page.onmessage = fn;
    },
    set onerror(fn: (event: { message: string; preventDefault(): void }) => void) {
      page.onerror = fn;
    },
    postMessage: (message: unknown) => setTimeout(() => scope.onmessage?.({ data: message } as MessageEvent)),
    terminate: () => {
      page.terminated = true;
    },
  };
  return { worker: worker as unknown as Worker, page };
}

test('workerChecksums + serveChecksums: the same through a worker, which is terminated at the end', async () => {
  const made: Array<ReturnType<typeof fakeWorker>> = [];
  const factory = workerChecksums(() => {
    const pair = fakeWorker((scope) => serveChecksums(scope, wasmChecksums));
    made.push(pair);
    return pair.worker;
  });
  assert.deepEqual(await run(factory), expected);
  assert.equal(made.length, 1);
  assert.equal(made[0]!.page.terminated, true);

  // parts sent without waiting are still hashed in order
  const checks = await factory();
  const md5s = await Promise.all(cuts.slice(1).map((end, i) => checks.part(file.slice(cuts[i], end))));
  assert.deepEqual({ md5s, sha256: await checks.digest() }, expected);
});

test('workerChecksums: a worker that fails rejects what is pending and every later call', async () => {
  let pair: ReturnType<typeof fakeWorker> | undefined;
  const factory = workerChecksums(() => {
    pair = fakeWorker((scope) => {
      scope.onmessage = () => {}; // never answers
    });
    return pair.worker;
  });
  const checks = await factory();
  const pending = checks.part(file.slice(0, 10));
  pair!.page.onerror!({
    message: 'Uncaught CompileError: WebAssembly.instantiate(): refused by CSP',
    preventDefault() {},
  });
  await assert.rejects(pending, /The checksum worker failed: Uncaught CompileError/);
  await assert.rejects(checks.digest(), /The checksum worker failed/);
});

test('serveChecksums reports a failure of the checksums as an error message', async () => {
  const factory = workerChecksums(
    () =>
      fakeWorker((scope) =>
        serveChecksums(scope, async () => ({
          part: async () => {
            throw new Error('disk read failed');
          },
          digest: async () => 'x',
        })),
      ).worker,
  );
  const checks = await factory();
  await assert.rejects(checks.part(file), /disk read failed/);
});

test('threadChecksums (Node): the same from a worker thread, which ends with the upload', async () => {
  const { threadChecksums } = await import('../src/checksums/node.js');
  assert.deepEqual(await run(threadChecksums()), expected);
  // the chunks read for the thread are moved to it, not copied: the Blob itself keeps its bytes
  const checks = await threadChecksums()();
  assert.equal(await checks.part(file), createHash('md5').update(data).digest('base64'));
  checks.close?.();
  assert.ok(Buffer.from(await file.arrayBuffer()).equals(data), 'the Blob still holds every byte');
});

test('threadChecksums (Node): a file opened with fs.openAsBlob, as Node apps send them', async (t) => {
  const { threadChecksums } = await import('../src/checksums/node.js');
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { openAsBlob } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'chute-checksums-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'data.bin'), data);
  const onDisk = await openAsBlob(join(dir, 'data.bin'));
  const checks = await threadChecksums()();
  const md5s: string[] = [];
  for (let i = 1; i < cuts.length; i++) md5s.push(await checks.part(onDisk.slice(cuts[i - 1], cuts[i])));
  const result = { md5s, sha256: await checks.digest() };
  checks.close?.();
  assert.deepEqual(result, expected);
});
