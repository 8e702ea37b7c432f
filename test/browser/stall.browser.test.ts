// Chromium decides: @chute/client (bundled for the browser, as an app ships it) uploads a file in
// parts from a page, to a server on 127.0.0.1 that plays Chute's multipart API and the storage. The
// first try of part 2 is taken and then never read or answered (a dead link): with the XHR's own
// upload progress events, the client cuts it after stallTimeout, sends the part again, and the
// storage ends up with the file byte for byte.
//
//   npm test -- --browser test/browser/stall.browser.test.ts
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import { launch, ROOT, type Browser } from './support.js';

const MiB = 2 ** 20;

declare function inPage(): any;

let browser: Browser;
let origin = '';
const parts = new Map<number, Buffer>();
const partTries = new Map<number, number>();
const server = createServer((request, response) => {
  request.on('error', () => {}); // the stalled request, cut by the client
  handle(request, response).catch(() => response.destroy());
});

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

let script = '';
async function handle(request: IncomingMessage, response: ServerResponse) {
  const { pathname } = new URL(request.url!, origin);
  const json = (body: unknown) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  if (pathname === '/') {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    return void response.end('<!doctype html><title>stall</title><script type="module" src="/client.js"></script>');
  }
  if (pathname === '/client.js') {
    response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
    return void response.end(script);
  }
  const part = /^\/part\/(\d+)$/.exec(pathname);
  if (part) {
    const number = Number(part[1]);
    const tries = partTries.get(number) ?? 0;
    partTries.set(number, tries + 1);
    // a dead link: taken, then nothing more is read or answered
    if (number === 2 && tries === 0) return void request.pause();
    parts.set(number, await readBody(request));
    response.writeHead(200, { ETag: `"${number}-${tries}"`, 'Access-Control-Expose-Headers': 'ETag' });
    return void response.end();
  }
  const body = JSON.parse((await readBody(request)).toString() || 'null');
  if (pathname === '/api/files/upload/multipart/')
    return json({ id: 1, key: 'files/1', upload_id: 'u1', part_size: 5 * MiB });
  if (pathname === '/api/files/upload/multipart/1/sign/') {
    return json({
      parts: body.parts.map(({ part_number }: { part_number: number }) => ({
        part_number,
        url: `${origin}/part/${part_number}`,
        headers: {},
      })),
    });
  }
  if (pathname === '/api/files/upload/multipart/1/complete/') {
    const data = Buffer.concat(body.parts.map(({ part_number }: { part_number: number }) => parts.get(part_number)!));
    return json({
      id: 1,
      original_file_name: 'x.bin',
      file_name: '1-x.bin',
      file_type: 'application/octet-stream',
      file_size: data.length,
      url: null,
      is_valid: true,
      upload_finished_at: null,
      created_at: new Date().toISOString(),
      uploaded_by: 1,
      sha256: createHash('sha256').update(data).digest('hex'),
    });
  }
  response.writeHead(404);
  response.end();
}

before(async () => {
  const bundled = await build({
    stdin: {
      contents: `import { uploadFile } from './index.ts'; globalThis.uploadFile = uploadFile;`,
      resolveDir: `${ROOT}packages/client/src`,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  script = bundled.outputFiles[0]!.text;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server.closeAllConnections();
  server.close();
});

test('Chromium: a part whose request stops moving is cut after stallTimeout and sent again; the file arrives whole', {
  timeout: 120_000,
}, async () => {
  const { page } = browser;
  await page.goto(origin);
  await page.waitForFunction(() => typeof inPage().uploadFile === 'function');
  const result = await page.evaluate(async () => {
    const data = new Uint8Array(11 * 2 ** 20);
    for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    const retries: Array<[number, string]> = [];
    const record = await inPage().uploadFile(new File([data], 'x.bin'), {
      multipartThreshold: 1,
      resumeStore: false,
      retryDelay: 1,
      stallTimeout: 1500,
      onRetry: (info: { partNumber: number; error: Error }) => retries.push([info.partNumber, info.error.name]),
    });
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    return {
      retries,
      stored: record.sha256,
      sent: Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join(''),
    };
  });
  assert.deepEqual(result.retries, [[2, 'StorageUnreachableError']]);
  assert.equal(result.stored, result.sent, 'the storage has the file, byte for byte');
  assert.equal(partTries.get(2), 2);
});
