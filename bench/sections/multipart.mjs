// Section "multipart": one big file in parts to RGW through @chute/client (Node: fetch, the file
// streamed from disk by fs.openAsBlob; Chute signs each part and completes) against
// @aws-sdk/lib-storage's Upload (straight to the bucket with the keys), same part size and parts in
// flight, run alternately in this one process so that both see the same machine. Two pairs:
// without checksums on either side, and with them (Chute: MD5 per part checked by the storage and
// the file's SHA-256; the SDK: its default CRC32 per part).
import { spawnSync } from 'node:child_process';
import { createWriteStream, createReadStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { GiB, log, MB, MiB, round } from '../lib.mjs';
import { makeRow } from '../report.mjs';
import { ROOT } from '../server.mjs';

export const MULTIPART_TARGET = 1.0; // Chute's MB/s over lib-storage's
const PART_SIZE = 8 * MiB; // Chute's part_size up to 78 GiB; lib-storage is given the same
const IN_FLIGHT = 4; // the client's default; lib-storage's queueSize default is 4 too

/** The client library as a user gets it: its built package (built here, ~5 s, so never stale). */
async function loadClient() {
  const dist = join(ROOT, 'packages/client/dist');
  const build = spawnSync('npm', ['run', 'build', '-w', '@chute/client'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('building @chute/client failed');
  // node.js: the entry Node resolves @chute/client to (index.js with the fetch transport)
  const client = await import(join(dist, 'node.js'));
  const { createChecksums, threadChecksums } = await import(join(dist, 'checksums/node.js'));
  // BENCH_CHECKSUMS=main hashes on the sending thread instead of a worker thread
  return {
    uploadFile: client.uploadFile,
    createChecksums: process.env.BENCH_CHECKSUMS === 'main' ? createChecksums : threadChecksums(),
  };
}

async function writeRandomFile(path, size) {
  const out = createWriteStream(path);
  for (let written = 0; written < size; ) {
    const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(4 * MiB, size - written)));
    written += chunk.length;
    if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
}

export async function benchMultipart({ server, s3, cfg, rows }) {
  const size = cfg.multipartBytes;
  const sizeText = size >= GiB ? `${size / GiB} GiB` : `${Math.round(size / MiB)} MiB`;
  const { uploadFile, createChecksums } = await loadClient();
  const token = server.auth.authorization.replace(/^Bearer /, '');
  const dir = await mkdtemp(join(tmpdir(), 'chute-bench-mp-'));
  const path = join(dir, 'big.bin');
  const sdkClients = {
    off: new S3Client(s3Options(s3, 'WHEN_REQUIRED')),
    on: new S3Client(s3Options(s3, 'WHEN_SUPPORTED')),
  };
  const runs = { chute: { off: [], on: [] }, sdk: { off: [], on: [] } };
  try {
    await writeRandomFile(path, size);

    const viaChute = async (checksums, bytes = size) => {
      const file = new File([(await openAsBlob(path)).slice(0, bytes)], 'big.bin', {
        type: 'application/octet-stream',
      });
      const started = performance.now();
      const record = await uploadFile(file, {
        baseUrl: server.baseUrl,
        token,
        concurrency: IN_FLIGHT,
        resumeStore: false,
        checksums: checksums ? createChecksums : undefined,
      });
      const seconds = (performance.now() - started) / 1000;
      if (!record.is_valid || record.file_size !== bytes)
        throw new Error(`chute upload ended as ${JSON.stringify(record)}`);
      const gone = await fetch(`${server.baseUrl}/api/files/${record.id}/`, { method: 'DELETE', headers: server.auth });
      if (gone.status !== 204) throw new Error(`DELETE ${record.id}: ${gone.status}`);
      return seconds;
    };
    const viaSdk = async (checksums, bytes = size) => {
      const client = sdkClients[checksums ? 'on' : 'off'];
      const key = `bench/lib-storage-${Date.now()}.bin`;
      const started = performance.now();
      await new Upload({
        client,
        queueSize: IN_FLIGHT,
        partSize: PART_SIZE,
        leavePartsOnError: false,
        params: {
          Bucket: s3.bucket,
          Key: key,
          Body: bodyOf(path, bytes, size),
          ContentType: 'application/octet-stream',
        },
      }).done();
      const seconds = (performance.now() - started) / 1000;
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
      return seconds;
    };

    // warm-up of both paths (connections, JIT), not counted
    const warm = Math.min(size, 64 * MiB);
    await viaChute(false, warm);
    await viaSdk(false, warm);
    // alternate who goes first, so that neither always gets the fresher machine
    for (let round_ = 1; round_ <= cfg.multipartRounds; round_++) {
      const order = round_ % 2 === 1 ? ['chute', 'sdk'] : ['sdk', 'chute'];
      for (const checksums of ['off', 'on']) {
        if (checksums === 'on' && round_ > cfg.multipartChecksumRounds) continue;
        for (const who of order) {
          const seconds = who === 'chute' ? await viaChute(checksums === 'on') : await viaSdk(checksums === 'on');
          runs[who][checksums].push(size / MB / seconds);
          log(
            `multipart ${round_}: ${who}, checksums ${checksums}: ${round(size / MB / seconds, 0)} MB/s (${round(seconds, 1)} s)`,
          );
        }
      }
    }
  } finally {
    sdkClients.off.destroy();
    sdkClients.on.destroy();
    await rm(dir, { recursive: true, force: true });
  }

  const best = (list) => Math.max(...list);
  const all = (list) => list.map((v) => round(v, 0)).join(', ');
  for (const checksums of ['off', 'on']) {
    const chute = runs.chute[checksums];
    const sdk = runs.sdk[checksums];
    if (!chute.length) continue;
    const how =
      checksums === 'off'
        ? 'no checksums on either side'
        : 'checksums: Chute MD5 per part (checked by the storage) + SHA-256 of the file; lib-storage CRC32 per part (its default)';
    rows.push(
      makeRow({
        section: 'multipart',
        what: `@aws-sdk/lib-storage Upload, ${sizeText}, ${PART_SIZE / MiB} MiB parts, ${IN_FLIGHT} in flight, ${how}`,
        value: `${round(best(sdk), 0)} MB/s`,
        notes: `best of ${sdk.length} (MB/s: ${all(sdk)}); straight to RGW with the bucket's keys, body read from disk`,
        data: { runs: sdk },
      }),
    );
    rows.push(
      makeRow({
        section: 'multipart',
        what: `@chute/client uploadFile, ${sizeText}, same parts and concurrency, ${how}`,
        value: `${round(best(chute), 0)} MB/s`,
        target: `≥ ${MULTIPART_TARGET}× lib-storage`,
        pass: best(chute) >= MULTIPART_TARGET * best(sdk),
        ceiling: `lib-storage ${round(best(sdk), 0)} MB/s`,
        ratio: best(chute) / best(sdk),
        notes: `best of ${chute.length} (MB/s: ${all(chute)}); includes Chute's create, part signing, complete with HeadObject, file from fs.openAsBlob`,
        data: { runs: chute },
      }),
    );
  }
}

/** lib-storage sizes a file stream by its path (ignoring `end`): a slice goes without one */
function bodyOf(path, bytes, size) {
  const stream = createReadStream(path, { end: bytes - 1, highWaterMark: MiB });
  return bytes === size ? stream : stream.pipe(new PassThrough({ highWaterMark: MiB }));
}

function s3Options(s3, requestChecksumCalculation) {
  return {
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation,
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
