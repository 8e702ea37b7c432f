// The S3 side: an RGW from scripts/local-s3 (or the one S3_ENDPOINT names), a bucket for the run,
// objects put straight into it, and how fast it answers HeadObject (the ceiling of S3 finish).
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startLocalS3 } from '../scripts/local-s3/index.mjs';
import { log, mapLimit, percentiles, round } from './lib.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** An S3 endpoint with a fresh bucket; stop() empties and removes the bucket (and the RGW it started). */
export async function startS3() {
  let settings;
  let rgw = null;
  if (process.env.S3_ENDPOINT) {
    settings = {
      endpoint: process.env.S3_ENDPOINT,
      accessKeyId: process.env.S3_ACCESS_KEY ?? 'localtest',
      secretAccessKey: process.env.S3_SECRET_KEY ?? 'localtest-secret',
    };
    log(`S3: using S3_ENDPOINT ${settings.endpoint}`);
  } else {
    log('S3: starting a local Ceph RGW (scripts/local-s3)...');
    rgw = await startLocalS3();
    settings = { endpoint: rgw.endpoint, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey };
    log(`S3: RGW at ${rgw.endpoint}`);
  }
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const bucket = `chute-bench-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    ...settings,
    bucket,
    client,
    external: rgw === null,
    async stop() {
      try {
        if (rgw === null) await emptyAndRemove(client, bucket);
      } finally {
        client.destroy();
        await rgw?.stop();
      }
    },
  };
}

async function emptyAndRemove(client, bucket) {
  // bounded: at most 1,000 pages of 1,000 keys
  for (let page = 0; page < 1000; page++) {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    const keys = (listed.Contents ?? []).map((object) => ({ Key: object.Key }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** PutObject each {key, type} (what a browser's POST would have left there). */
export async function putObjects(s3, items, { concurrency = 32, size = 1024, body = randomBytes(size) } = {}) {
  const t0 = performance.now();
  await mapLimit(items, concurrency, ({ key, type }) =>
    s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, ContentType: type })),
  );
  const seconds = (performance.now() - t0) / 1000;
  log(`S3: put ${items.length} objects in ${seconds.toFixed(1)} s (${Math.round(items.length / seconds)}/s)`);
  return seconds;
}

/** HeadObject straight from here at the given concurrency for `seconds`: what finish can at best reach. */
export async function headRate(s3, keys, { connections, seconds }) {
  const latencies = [];
  const deadline = performance.now() + seconds * 1000;
  let next = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        const start = performance.now();
        await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: keys[next++ % keys.length] }));
        latencies.push(performance.now() - start);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const lat = percentiles(latencies);
  return {
    connections,
    rps: round(latencies.length / elapsed, 0),
    latencyMs: { p50: round(lat.p50, 2), p99: round(lat.p99, 2) },
    // the SDK's own cost per call, in this process: the same client code the server runs
    benchCpu: round((cpu.user + cpu.system) / 1e6 / elapsed, 2),
    cpuUsPerCall: round((cpu.user + cpu.system) / latencies.length, 0),
  };
}
