import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ALGORITHM, amzDates, credentialScope, hmac, SigningKeys, sha256Hex } from './sigv4.js';

/** What one presigned URL is for: the headers given here are signed, so the client must send them as given. */
export interface PresignRequest {
  operation: keyof typeof METHODS;
  key: string;
  /** S3's query parameters of the operation (`uploadId`, `partNumber`, `response-content-type`, ...). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  expiresIn: number;
  /** Fixed only by tests, to compare with the SDK's own URL; by default now on the storage's clock. */
  signingDate?: Date;
}

const METHODS = { GetObject: 'GET', PutObject: 'PUT', UploadPart: 'PUT' } as const;
const PAYLOAD_HASH = 'X-Amz-Content-Sha256';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** S3's URI escaping (RFC 3986: encodeURIComponent and its five exceptions too). */
const escapeUri = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
export const escapeKey = (key: string) => key.split('/').map(escapeUri).join('/');

/** A clock this far from the storage's counts as skewed (S3 refuses signatures 15 minutes off). */
export const CLOCK_SKEW_MS = 240_000;

/**
 * Now on the storage's clock: the offset to it that S3's answers set (see s3-direct.ts) once it is a
 * skew. A smaller one is the answer's Date, in whole seconds, and the way there, not the clock: the SDK
 * sets it on every answer (up to a second behind), which would date a presigned URL up to a second in
 * the past, and expire a 1-second URL as it is made.
 */
export const storageNow = (client: S3Client): Date => {
  const offset = client.config.systemClockOffset;
  return new Date(Math.abs(offset) >= CLOCK_SKEW_MS ? Date.now() + offset : Date.now());
};

/**
 * Where a bucket's objects are and the region that signs for them, as the SDK resolves them for any of
 * its keys: resolved once (the SDK's endpoint rules run on every call it makes) and shared by the
 * signers and the direct requests of one storage.
 */
export class BucketAddress {
  private base: Promise<{ url: URL; region: string }> | null = null;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  /** The bucket's URL ending in '/' (an object's path follows it) and the signing region. */
  resolve(): Promise<{ url: URL; region: string }> {
    if (!this.base) {
      const probe = 'k';
      this.base = getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: probe })).then(
        (signed) => {
          const url = new URL(signed);
          const scope = url.searchParams.get('X-Amz-Credential')?.split('/') ?? [];
          url.pathname = url.pathname.slice(0, -probe.length);
          url.search = '';
          return { url, region: scope[2] ?? '' };
        },
      );
      this.base.catch(() => (this.base = null)); // a failed resolution is retried on the next call
    }
    return this.base;
  }
}

/** One header's value as SigV4 signs it: line breaks and runs of blanks made one space, ends trimmed. */
const canonicalValue = (value: string) =>
  value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');

/**
 * The SDK's presigned URLs (the same query, headers and signature as its getSignedUrl, checked in
 * s3-presign.test.ts) without its machinery: getSignedUrl builds a command, runs the endpoint rule
 * engine and clones the client's stack on every call (about half of the CPU of a finish or a file
 * list in S3 mode), and its SigV4 presigner then clones the request twice and hashes the
 * credentials to find its cached signing key (a part URL cost ~31 µs through it, against ~5 here).
 * The bucket's URL is resolved once by the SDK itself. As the SDK does: every header given is
 * signed, except that x-amz-* ones (but server-side encryption's) travel in the query, and the
 * payload is unsigned (its bytes are the client's to send).
 */
export class PresignedUrlSigner {
  private readonly keys = new SigningKeys();

  constructor(
    private readonly client: S3Client,
    private readonly address: BucketAddress,
  ) {}

  async sign({ operation, key, query = {}, headers = {}, expiresIn, signingDate }: PresignRequest): Promise<string> {
    const [{ url, region }, credentials] = await Promise.all([
      this.address.resolve(),
      this.client.config.credentials(),
    ]);
    // on the storage's clock (the offset its answers set), which getSignedUrl leaves out
    const { longDate, shortDate } = amzDates(signingDate ?? storageNow(this.client));
    const scope = credentialScope(shortDate, region);
    const path = `${url.pathname}${escapeKey(key)}`;
    // the SDK names the operation in every URL it signs (x-id): kept, so the URLs stay the same
    const params: Record<string, string> = { ...query, 'x-id': operation, [PAYLOAD_HASH]: UNSIGNED_PAYLOAD };
    const signed: Record<string, string> = { host: url.host };
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower.startsWith('x-amz-') && !lower.startsWith('x-amz-server-side-encryption')) params[name] = value;
      else signed[lower] = canonicalValue(value);
    }
    const names = Object.keys(signed).sort();
    Object.assign(params, {
      ...(credentials.sessionToken && { 'X-Amz-Security-Token': credentials.sessionToken }),
      'X-Amz-Algorithm': ALGORITHM,
      'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
      'X-Amz-Date': longDate,
      'X-Amz-Expires': String(expiresIn),
      'X-Amz-SignedHeaders': names.join(';'),
    });
    const search = Object.entries(params)
      .map(([name, value]) => [escapeUri(name), escapeUri(value)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const canonicalRequest = [
      METHODS[operation],
      path,
      search,
      ...names.map((name) => `${name}:${signed[name]}`),
      '',
      names.join(';'),
      UNSIGNED_PAYLOAD,
    ].join('\n');
    const toSign = `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = hmac(this.keys.keyFor(shortDate, region, credentials), toSign).toString('hex');
    return `${url.origin}${path}?${search}&X-Amz-Signature=${signature}`;
  }
}
