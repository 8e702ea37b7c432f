// `chute static:publish`: the web app's built assets (web/dist/assets, content-hashed names) to
// the bucket under STATIC_PREFIX, for a CDN (or the bucket itself) to serve at STATIC_URL.
// Idempotent: an object already there with the same SHA-256 (kept in its metadata) is not sent.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, PutObjectCommand, type ObjectCannedACL, type S3Client } from '@aws-sdk/client-s3';
import mime from 'mime-types';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { createS3Client } from '../core/storage/s3.js';
import { S3SetupError, s3SettingsFor } from './s3-setup-error.js';

/** Hashed names never change content: a year, and never revalidated. */
export const STATIC_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const ASSETS_DIR = fileURLToPath(new URL('../../web/dist/assets/', import.meta.url));
const SHA256_META = 'sha256';

export interface PublishedAsset {
  key: string;
  bytes: number;
  /** sent, or already there with the same content */
  outcome: 'sent' | 'unchanged' | 'would send';
}

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** The stored object's SHA-256 (from its metadata), or null when there is none. */
async function storedSha256(client: S3Client, bucket: string, key: string): Promise<string | null> {
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return head.Metadata?.[SHA256_META] ?? null;
  } catch (error) {
    if (statusOf(error) === 404) return null;
    throw error;
  }
}

export async function publishStatic({
  client,
  bucket,
  prefix,
  acl,
  assetsDir = ASSETS_DIR,
  dryRun = false,
  onAsset = () => {},
}: {
  client: S3Client;
  bucket: string;
  prefix: string;
  acl: string;
  assetsDir?: string;
  dryRun?: boolean;
  onAsset?: (asset: PublishedAsset) => void;
}): Promise<PublishedAsset[]> {
  const names = (await readdir(assetsDir).catch(() => [] as string[])).sort();
  if (!names.length)
    throw new S3SetupError(`no built assets in ${assetsDir}: build the web app first (npm run build:web)`);
  const published: PublishedAsset[] = [];
  for (const name of names) {
    const body = await readFile(join(assetsDir, name));
    const sha256 = createHash('sha256').update(body).digest('hex');
    const key = `${prefix}assets/${name}`;
    const same = (await storedSha256(client, bucket, key)) === sha256;
    const outcome: PublishedAsset['outcome'] = same ? 'unchanged' : dryRun ? 'would send' : 'sent';
    if (outcome === 'sent') {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: mime.contentType(name) || 'application/octet-stream',
          CacheControl: STATIC_CACHE_CONTROL,
          ACL: acl as ObjectCannedACL,
          Metadata: { [SHA256_META]: sha256 },
        }),
      );
    }
    const asset = { key, bytes: body.length, outcome };
    published.push(asset);
    onAsset(asset);
  }
  return published;
}

export async function staticPublishCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { 'dry-run': { type: 'boolean', default: false } } });
  const s3 = s3SettingsFor(config, 'static:publish');
  const client = createS3Client(s3);
  try {
    const assets = await publishStatic({
      client,
      bucket: s3.bucket,
      prefix: config.staticFiles.prefix,
      acl: s3.defaultAcl,
      dryRun: values['dry-run'],
      onAsset: ({ key, bytes, outcome }) => console.log(`${outcome.padEnd(10)} ${key} (${bytes} bytes)`),
    });
    const count = (outcome: PublishedAsset['outcome']) => assets.filter((asset) => asset.outcome === outcome).length;
    const where = `s3://${s3.bucket}/${config.staticFiles.prefix}assets/`;
    if (values['dry-run']) console.log(`dry run: ${count('would send')} to send, ${count('unchanged')} already there`);
    else if (!count('sent')) console.log(`nothing to send: all ${assets.length} assets are already in ${where}`);
    else console.log(`${count('sent')} sent, ${count('unchanged')} already there, in ${where}`);
    return 0;
  } finally {
    client.destroy();
  }
}
