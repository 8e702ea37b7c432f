// Load: 500 uploads in flight at once through @chute/client in Node, random sizes (1 B to 20 MiB,
// log-uniform so that small files dominate as they do in real traffic, with both ends always
// present) and random names, by ten users, against RGW and local storage. Every upload must
// complete, every stored byte must match its SHA-256, and the records must be exactly the uploads:
// none lost, none doubled, none left pending, no stray object or file in the storage.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { client, createChecksums, type FileRecord } from '../client.js';
import { sha256OfUrl } from '../files.js';
import { defer, listKeys, startTestServer, testS3Client, type TestServer, type TestUser } from '../helpers.js';

const { listFiles, uploadFiles } = client;
const MiB = 2 ** 20;
const UPLOADS = Number(process.env.CHUTE_LOAD_UPLOADS ?? 500);
const USERS = 10;
const MAX_SIZE = 20 * MiB;
/** lower than the default so that the bigger files go in parts and both paths carry load */
const MULTIPART_ABOVE = 8 * MiB;

let checked = 0;
after(() =>
  console.log(`load: ${checked} uploads checked byte for byte (${UPLOADS} per storage, ${USERS} users, at once)`),
);

interface Planned {
  user: number;
  name: string;
  type: string;
  file: Blob;
  sha256: string;
}

const NAME_PARTS = [
  'report',
  'Résumé',
  'photo 2026',
  '文件',
  'naïve café',
  'a'.repeat(60),
  'x',
  'data.backup',
  'Ω≈ç',
  'ünïcödé',
  '-dash-',
  'sp ace',
];
const TYPES: Array<[string, string]> = [
  ['.pdf', 'application/pdf'],
  ['.png', 'image/png'],
  ['.txt', 'text/plain'],
  ['.bin', 'application/octet-stream'],
  ['', 'application/octet-stream'],
  ['.tar.gz', 'application/gzip'],
];

/** log-uniform in [1, MAX_SIZE]; the first uploads pin the edges: 1 B, the threshold, 20 MiB */
function sizeOf(index: number): number {
  const edges = [1, MULTIPART_ABOVE - 1, MULTIPART_ABOVE, MULTIPART_ABOVE + 1, MAX_SIZE];
  if (index < edges.length) return edges[index]!;
  return Math.max(1, Math.min(MAX_SIZE, Math.floor(Math.exp(Math.random() * Math.log(MAX_SIZE)))));
}

function plan(): Planned[] {
  return Array.from({ length: UPLOADS }, (_, index) => {
    const bytes = randomBytes(sizeOf(index));
    const [extension, type] = TYPES[randomInt(TYPES.length)]!;
    // names repeat on purpose: records are told apart by id, never by name
    const name = `${NAME_PARTS[randomInt(NAME_PARTS.length)]}${randomInt(3) === 0 ? '' : ` ${randomInt(40)}`}${extension}`;
    return {
      user: index % USERS,
      name,
      type,
      file: new Blob([bytes]),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  });
}

async function allFilesOf(server: TestServer, user: TestUser): Promise<FileRecord[]> {
  const files: FileRecord[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await listFiles({ limit: 100, offset }, { baseUrl: server.baseUrl, token: user.token });
    files.push(...page.results);
    if (files.length >= page.count || page.results.length === 0) return files;
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

const S3_SKIP = process.env.S3_ENDPOINT ? false : 'S3_ENDPOINT is not set (`npm test` starts a local RGW)';

for (const storage of ['local', 's3'] as const) {
  describe(`load through @chute/client (${storage} storage)`, {
    skip: storage === 's3' ? S3_SKIP : false,
    timeout: 10 * 60_000,
  }, () => {
    test(`${UPLOADS} uploads at once by ${USERS} users: all complete, all bytes match, records are exactly the uploads`, async (t) => {
      const server = await startTestServer(t, { storage, env: { FILE_MAX_SIZE: String(MAX_SIZE) } });
      const users = await Promise.all(Array.from({ length: USERS }, () => server.createUser()));
      const planned = plan();
      const totalBytes = planned.reduce((sum, p) => sum + p.file.size, 0);

      const started = performance.now();
      const results = await Promise.all(
        users.map((user, u) => {
          const mine = planned.filter((p) => p.user === u);
          return uploadFiles(
            mine.map((p) => ({ file: p.file, fileName: p.name, fileType: p.type })),
            {
              baseUrl: server.baseUrl,
              token: user.token,
              concurrency: mine.length, // every upload of every user in flight at once
              multipartThreshold: MULTIPART_ABOVE,
              // half the users send checksums: per-part MD5 checked by the storage, SHA-256 stored
              checksums: u % 2 === 0 ? createChecksums : undefined,
              resumeStore: false,
            },
          ).then((outcomes) => outcomes.map((outcome, i) => ({ outcome, planned: mine[i]! })));
        }),
      ).then((perUser) => perUser.flat());
      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(
        `${storage}: ${UPLOADS} uploads, ${(totalBytes / MiB).toFixed(0)} MiB in ${seconds.toFixed(1)} s (${(totalBytes / 1e6 / seconds).toFixed(1)} MB/s); ${planned.filter((p) => p.file.size >= MULTIPART_ABOVE).length} in parts`,
      );

      const failures = results
        .filter((r) => !r.outcome.ok)
        .map((r) => `${r.planned.name} (${r.planned.file.size} B): ${r.outcome.ok ? '' : r.outcome.error}`);
      assert.deepEqual(failures, [], `every upload completes (${failures.length} failed)`);

      // the records, as Chute lists them to each user: exactly that user's uploads
      const byId = new Map<number, { record: FileRecord; planned: Planned }>();
      for (const { outcome, planned: p } of results) {
        assert.ok(outcome.ok);
        assert.ok(!byId.has(outcome.record.id), `id ${outcome.record.id} given twice`);
        byId.set(outcome.record.id, { record: outcome.record, planned: p });
      }
      for (const [u, user] of users.entries()) {
        const listed = await allFilesOf(server, user);
        const expected = results
          .filter((r) => r.planned.user === u)
          .map((r) => (r.outcome.ok ? r.outcome.record.id : -1))
          .sort((a, b) => a - b);
        assert.deepEqual(
          listed.map((f) => f.id).sort((a, b) => a - b),
          expected,
          `user ${u} sees exactly their uploads`,
        );
        for (const file of listed) {
          const { planned: p } = byId.get(file.id)!;
          assert.equal(file.is_valid, true, `${file.id} is valid`);
          assert.equal(file.original_file_name, p.name);
          assert.equal(file.file_type, p.type);
          assert.equal(file.file_size, p.file.size, `${file.id} (${p.name}) size`);
        }
      }

      // every stored byte, read back through the download URL
      const entries = [...byId.values()];
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < entries.length) {
            const { record, planned: p } = entries[next++]!;
            assert.ok(record.url, `${record.id} has a download URL`);
            assert.equal(
              await sha256OfUrl(new URL(record.url, server.baseUrl).href),
              p.sha256,
              `${record.id} (${p.name}, ${p.file.size} B): the stored bytes`,
            );
            checked++;
          }
        }),
      );

      // nothing else in the storage: one object per upload, no leftovers of parts or temp files
      const { config } = server.app.chute;
      if (storage === 's3') {
        const s3 = testS3Client();
        defer(t, () => s3.destroy());
        assert.equal((await listKeys(s3, config.s3!.bucket)).length, UPLOADS, 'one object per upload in the bucket');
      } else {
        assert.equal(
          (await filesUnder(config.mediaRoot)).length,
          UPLOADS,
          'one file per upload in MEDIA_ROOT, no temp files or parts',
        );
      }
    });
  });
}
