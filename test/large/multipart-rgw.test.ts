// Large files through the client library in Node (the fetch transport, a file-backed Blob from
// fs.openAsBlob, checksums with node:crypto), against a real Chute and a real S3 (the RGW that
// `npm test` starts) and against local storage:
//   - a 1 GiB upload completes and the download is byte-identical (SHA-256, streamed on both ends);
//   - a TCP proxy on 127.0.0.1 drops connections mid-upload a few times: the upload still completes;
//   - the proxy corrupts part bodies: the storage refuses them by their Content-MD5, the client
//     sends them again, and when they keep being corrupted the upload fails with that error;
//   - a part URL expires before its PUT arrives (the proxy holds it): it is signed again;
//   - the network goes away and the upload fails; the same file uploaded again (a restart)
//     continues from the parts already there instead of from zero.
//
//   npm test -- test/large/multipart-rgw.test.ts
//   CHUTE_LARGE_BYTES=268435456 npm test -- test/large/multipart-rgw.test.ts     (a smaller "big" file)
// On PostgreSQL runs (DATABASE_URL=postgres://...) they are skipped unless CHUTE_LARGE_TESTS=1.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import {
  client,
  createChecksums,
  threadChecksums,
  type FileRecord,
  type RetryInfo,
  type UploadOptions,
} from '../client.js';
import { sha256OfUrl, writeRandomFile } from '../files.js';
import { defer, startTestServer, type TestServer, type TestUser, usingPostgres } from '../helpers.js';

const { ChuteApiError, memoryResumeStore, NetworkError, StorageError, StorageUnreachableError, uploadFile } = client;

const MiB = 2 ** 20;
const SIZE = Number(process.env.CHUTE_LARGE_BYTES ?? 1024 * MiB);
/** the proxy tests use the first SMALL bytes of the same file */
const SMALL = Math.min(SIZE, 96 * MiB);

// Minutes of bytes that the database never sees (a few rows per upload): once per CI run is
// enough, on SQLite. CHUTE_LARGE_TESTS=1 runs them on PostgreSQL too.
const DB_SKIP =
  usingPostgres && process.env.CHUTE_LARGE_TESTS !== '1'
    ? 'large files run on SQLite only (CHUTE_LARGE_TESTS=1: also here)'
    : false;

// ---------- the file: random bytes streamed to disk, hashed on the way, never all in memory ----------

let dir: string;
let path: string;
let fileSha256: string;
const slices = new Map<number, string>();

async function sha256OfFile(bytes: number): Promise<string> {
  if (!slices.has(bytes)) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 4 * MiB }))
      hash.update(chunk as Buffer);
    slices.set(bytes, hash.digest('hex'));
  }
  return slices.get(bytes)!;
}

before(async () => {
  if (DB_SKIP) return;
  dir = await mkdtemp(join(tmpdir(), 'chute-large-'));
  path = join(dir, 'big.bin');
  fileSha256 = await writeRandomFile(path, SIZE);
  slices.set(SIZE, fileSha256);
});
after(() => dir && rm(dir, { recursive: true, force: true }));

/** The first `bytes` of the file as a File backed by the disk (a slice of fs.openAsBlob's Blob). */
async function fileOf(bytes = SIZE): Promise<File> {
  const blob = await openAsBlob(path);
  return new File([bytes === SIZE ? blob : blob.slice(0, bytes)], `big-${bytes}.bin`, {
    type: 'application/octet-stream',
    lastModified: 1_700_000_000_000,
  });
}

// ---------- a TCP proxy that cuts, corrupts, or goes away ----------

/**
 * Follows the HTTP/1.1 requests in one connection's client-to-server bytes and hands each piece
 * of a request body to `onBody` (which may change it in place) with its offset in that body.
 */
function httpBodyTap(onBody: (method: string, piece: Buffer, offset: number) => void) {
  let head = '';
  let method = '';
  let left = 0;
  let offset = 0;
  return (chunk: Buffer): Buffer => {
    const copy = Buffer.from(chunk);
    for (let at = 0; at < copy.length; ) {
      if (left > 0) {
        const n = Math.min(left, copy.length - at);
        onBody(method, copy.subarray(at, at + n), offset);
        left -= n;
        offset += n;
        at += n;
        continue;
      }
      const text = head + copy.toString('latin1', at);
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        head = text.slice(-65536);
        break;
      }
      at += end + 4 - head.length;
      head = '';
      method = text.slice(0, text.indexOf(' '));
      left = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      offset = 0;
    }
    return copy;
  };
}

class TcpProxy {
  port = 0;
  /** connections dropped by cutEvery */
  cuts = 0;
  /** request bodies corrupted */
  corrupted = 0;
  /** bytes of PUT bodies that went through */
  putBytes = 0;
  /** PUT requests held back by holdPuts */
  held = 0;
  private holdLeft = 0;
  private holdMs = 0;
  private cutsLeft = 0;
  private cutAfter = Infinity;
  private sinceCut = 0;
  private corruptLeft = 0;
  private downIn = Infinity;
  private down = false;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor(public targetPort: number) {
    this.server = createServer((client) => this.pipe(client));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** drop the connection carrying the byte every `bytes` client bytes, `times` times */
  cutEvery(bytes: number, times: number): void {
    this.cutAfter = bytes;
    this.cutsLeft = times;
    this.sinceCut = 0;
  }

  /** flip a byte at the start of the next `count` PUT bodies */
  corrupt(count: number): void {
    this.corruptLeft = count;
  }

  /** after `bytes` more client bytes, drop every connection and refuse new ones until up() */
  downAfter(bytes: number): void {
    this.downIn = bytes;
  }

  /** hold the next `count` PUT requests for `ms` before they go on */
  holdPuts(count: number, ms: number): void {
    this.holdLeft = count;
    this.holdMs = ms;
  }

  up(): void {
    this.down = false;
    this.downIn = Infinity;
  }

  private goDown(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
  }

  private pipe(client: Socket): void {
    if (this.down) return void client.destroy();
    const upstream = connect(this.targetPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    const tap = httpBodyTap((method, piece, offset) => {
      if (method !== 'PUT') return;
      this.putBytes += piece.length;
      if (offset === 0 && piece.length > 0 && this.corruptLeft > 0) {
        this.corruptLeft--;
        this.corrupted++;
        piece[0] = piece[0]! ^ 0xff;
      }
    });
    client.on('data', (data: Buffer) => {
      if (this.down) return close();
      if (this.cutsLeft > 0 && (this.sinceCut += data.length) >= this.cutAfter) {
        this.sinceCut = 0;
        this.cutsLeft--;
        this.cuts++;
        return close();
      }
      if ((this.downIn -= data.length) <= 0) return this.goDown();
      if (this.holdLeft > 0 && data.toString('latin1', 0, 4) === 'PUT ') {
        // the rest of the request waits in the paused socket
        this.holdLeft--;
        this.held++;
        client.pause();
        setTimeout(() => {
          upstream.write(tap(data));
          client.resume();
        }, this.holdMs);
        return;
      }
      if (!upstream.write(tap(data))) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    });
    upstream.on('data', (data: Buffer) => {
      if (!client.write(data)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
      socket.on('end', close);
    }
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// ---------- one Chute (and proxy) per test ----------

interface Setup {
  server: TestServer;
  user: TestUser;
  /** where the client talks to Chute: the server, or the proxy in front of it (local storage) */
  baseUrl: string;
  proxy?: TcpProxy;
}

const FILE_MAX_SIZE = String(Math.max(SIZE, 64 * MiB) + MiB);

/**
 * With `proxy`, the proxy stands between the client and the bytes' destination: in front of RGW
 * (Chute signs part URLs for the proxy's address, so S3 signatures hold), or in front of Chute
 * itself with local storage (APP_DOMAIN is the proxy's address).
 */
async function setUp(
  t: TestContext,
  storage: 'local' | 's3',
  { proxy: withProxy = false, env: extra = {} as Record<string, string> } = {},
): Promise<Setup> {
  let proxy: TcpProxy | undefined;
  const env: Record<string, string> = { FILE_MAX_SIZE, ...extra };
  if (withProxy) {
    proxy = await new TcpProxy(storage === 's3' ? Number(new URL(process.env.S3_ENDPOINT!).port) : 0).listen();
    defer(t, () => proxy!.close());
    if (storage === 's3') env.AWS_S3_ENDPOINT_URL = proxy.url;
    else env.APP_DOMAIN = proxy.url;
  }
  const server = await startTestServer(t, { storage, env });
  if (proxy && storage === 'local') proxy.targetPort = Number(new URL(server.baseUrl).port);
  const user = await server.createUser();
  return { server, user, baseUrl: proxy && storage === 'local' ? proxy.url : server.baseUrl, proxy };
}

const clientOptions = (setup: Setup, extra: UploadOptions = {}): UploadOptions => ({
  baseUrl: setup.baseUrl,
  token: setup.user.token,
  checksums: createChecksums,
  resumeStore: memoryResumeStore(),
  ...extra,
});

async function storedSha256(setup: Setup, id: number): Promise<string | null> {
  const row = await setup.server.app.chute.db
    .selectFrom('chute_files')
    .select('sha256')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.sha256;
}

async function assertSame(setup: Setup, record: FileRecord, bytes: number) {
  assert.equal(record.is_valid, true);
  assert.equal(record.file_size, bytes);
  assert.ok(record.url, 'a download URL');
  const expected = await sha256OfFile(bytes);
  assert.equal(await sha256OfUrl(record.url), expected, 'the downloaded bytes are the file');
  assert.equal(await storedSha256(setup, record.id), expected, "Chute stored the client's SHA-256");
}

const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);

const S3_SKIP = process.env.S3_ENDPOINT ? DB_SKIP : 'S3_ENDPOINT is not set (`npm test` starts a local RGW)';

for (const storage of ['s3', 'local'] as const) {
  describe(`large files through @chute/client in Node (${storage} storage)`, {
    skip: storage === 's3' ? S3_SKIP : DB_SKIP,
    timeout: 15 * 60_000,
  }, () => {
    test(`${SIZE / MiB} MiB in parts: completes, and the download is byte-identical`, async (t) => {
      const setup = await setUp(t, storage);
      const rssBefore = process.memoryUsage().rss;
      let rssMax = rssBefore;
      let updates = 0;
      const started = performance.now();
      const record = await uploadFile(
        await fileOf(),
        clientOptions(setup, {
          // as a Node app would hash a big file: off the thread that sends it
          checksums: threadChecksums(),
          onProgress: () => {
            updates++;
            rssMax = Math.max(rssMax, process.memoryUsage().rss);
          },
        }),
      );
      const elapsed = performance.now() - started;
      t.diagnostic(
        `${storage}: ${SIZE / MiB} MiB in ${(elapsed / 1000).toFixed(1)} s = ${mbps(SIZE, elapsed)} MB/s (checksums on a worker thread included), RSS +${((rssMax - rssBefore) / MiB).toFixed(0)} MiB`,
      );
      assert.ok(updates >= SIZE / (8 * MiB), `progress after each part (${updates} updates)`);
      assert.ok(
        rssMax - rssBefore < Math.max(256 * MiB, SIZE / 2),
        `the file is streamed from disk, not held in memory (RSS +${((rssMax - rssBefore) / MiB).toFixed(0)} MiB)`,
      );
      await assertSame(setup, record, SIZE);
    });

    test('connections dropped mid-upload: the parts in flight are sent again and the upload completes', async (t) => {
      const setup = await setUp(t, storage, { proxy: true });
      const retries: RetryInfo[] = [];
      setup.proxy!.cutEvery(20 * MiB, 3);
      const record = await uploadFile(
        await fileOf(SMALL),
        clientOptions(setup, { retryDelay: 100, onRetry: (info) => retries.push(info) }),
      );
      assert.equal(setup.proxy!.cuts, 3, 'the proxy dropped 3 connections');
      assert.ok(retries.length >= 3, `retried after each cut (${retries.length} retries)`);
      assert.ok(
        retries.every((r) => r.error instanceof StorageUnreachableError || r.error instanceof NetworkError),
        retries.map((r) => String(r.error)).join('; '),
      );
      t.diagnostic(`${retries.length} retries: parts ${retries.map((r) => r.partNumber ?? 'API').join(', ')}`);
      await assertSame(setup, record, SMALL);
    });

    test('a part corrupted on the way is refused by its Content-MD5 and sent again; if it keeps failing, the upload fails with that error', async (t) => {
      const setup = await setUp(t, storage, { proxy: true });
      const refusal = (error: unknown) =>
        storage === 's3'
          ? error instanceof StorageError && error.code === 'BadDigest'
          : error instanceof ChuteApiError && error.code === 'checksum_mismatch';
      const retries: RetryInfo[] = [];
      setup.proxy!.corrupt(2);
      const bytes = Math.min(SIZE, 40 * MiB);
      const record = await uploadFile(
        await fileOf(bytes),
        clientOptions(setup, { retryDelay: 50, onRetry: (info) => retries.push(info) }),
      );
      assert.equal(setup.proxy!.corrupted, 2);
      assert.equal(retries.length, 2, retries.map((r) => String(r.error)).join('; '));
      assert.ok(
        retries.every((r) => refusal(r.error) && typeof r.partNumber === 'number'),
        retries.map((r) => String(r.error)).join('; '),
      );
      await assertSame(setup, record, bytes);

      setup.proxy!.corrupt(Infinity);
      const file = await fileOf(bytes);
      const failed = await uploadFile(file, clientOptions(setup, { retries: 2, retryDelay: 50 })).then(
        () => assert.fail('a part that is always corrupted cannot be uploaded'),
        (error: unknown) => error,
      );
      assert.ok(refusal(failed), String(failed));
      assert.equal(typeof (failed as { partNumber?: number }).partNumber, 'number', 'the error names the part');
    });

    test('a part URL that expired before its PUT arrived is signed again, not fatal', async (t) => {
      const setup = await setUp(t, storage, { proxy: true, env: { AWS_PRESIGNED_EXPIRY: '1' } });
      const retries: RetryInfo[] = [];
      setup.proxy!.holdPuts(1, 2500);
      const bytes = Math.min(SIZE, 40 * MiB);
      const record = await uploadFile(
        await fileOf(bytes),
        clientOptions(setup, { retryDelay: 50, onRetry: (info) => retries.push(info) }),
      );
      assert.equal(setup.proxy!.held, 1);
      const expired = retries.filter((r) =>
        // AWS says "Request has expired"; Ceph RGW a bare AccessDenied
        storage === 's3'
          ? r.error instanceof StorageError && r.error.code === 'AccessDenied'
          : r.error instanceof ChuteApiError && r.error.status === 403 && r.error.code === 'permission_denied',
      );
      assert.ok(
        expired.length >= 1,
        `the held part was refused as expired and sent again: ${retries.map((r) => String(r.error)).join('; ')}`,
      );
      await assertSame(setup, record, bytes);
    });

    test('the network goes away; the same file uploaded again continues from the parts already there', async (t) => {
      const setup = await setUp(t, storage, { proxy: true });
      const store = memoryResumeStore();
      const bytes = SMALL;
      setup.proxy!.downAfter(Math.floor(bytes * 0.6));
      const first = await uploadFile(
        await fileOf(bytes),
        clientOptions(setup, { resumeStore: store, retries: 1, retryDelay: 50 }),
      ).then(
        () => assert.fail('the network went away'),
        (error: unknown) => error,
      );
      assert.ok(first instanceof StorageUnreachableError || first instanceof NetworkError, String(first));

      setup.proxy!.up();
      const sentBefore = setup.proxy!.putBytes;
      const resumed: Array<{ uploadedBytes: number }> = [];
      const record = await uploadFile(
        await fileOf(bytes),
        clientOptions(setup, { resumeStore: store, onResume: (info) => resumed.push(info) }),
      );
      const sent = setup.proxy!.putBytes - sentBefore;
      t.diagnostic(`resumed with ${resumed[0]?.uploadedBytes ?? 0} bytes already there; sent ${sent} of ${bytes}`);
      assert.equal(resumed.length, 1, 'told that it resumes');
      assert.ok(resumed[0]!.uploadedBytes >= 16 * MiB, `parts were already there (${resumed[0]!.uploadedBytes} bytes)`);
      assert.ok(sent <= bytes - resumed[0]!.uploadedBytes, `only the missing parts were sent (${sent} bytes)`);
      assert.ok(sent < bytes);
      await assertSame(setup, record, bytes);
      const listed = await setup.server.app.chute.db.selectFrom('chute_files').select('id').execute();
      assert.equal(listed.length, 1, 'one record: the resumed upload, not a second one');
    });
  });
}
