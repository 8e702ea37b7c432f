import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ALGORITHM, amzDates, credentialScope, hmac, SigningKeys, sha256Hex } from './sigv4.js';
import { MAX_SIGNED_SECONDS } from './types.js';

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

/** What encodeURIComponent leaves as is and RFC 3986 (S3) escapes. */
const RESERVED = /[!'()*]/;
const RESERVED_ALL = /[!'()*]/g;
/** S3's URI escaping (RFC 3986: encodeURIComponent and its five exceptions too; most values have none). */
const escapeUri = (value: string) => {
  const escaped = encodeURIComponent(value);
  return RESERVED.test(escaped)
    ? escaped.replace(RESERVED_ALL, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : escaped;
};
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

/** SigV4's order of query parameters and headers: by (escaped) name, in code units. */
const byName = ([a]: [string, string], [b]: [string, string]) => (a < b ? -1 : a > b ? 1 : 0);

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
 * credentials to find its cached signing key (a part URL took ~31 µs through it, ~11 here).
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
    // config and options stop longer lives at boot; S3 would refuse the URL on use
    if (expiresIn > MAX_SIGNED_SECONDS) throw new RangeError(`a presigned URL lives at most ${MAX_SIGNED_SECONDS} s`);
    const { url, region } = await this.address.resolve();
    const credentials = await this.client.config.credentials();
    // on the storage's clock (the offset its answers set), which getSignedUrl leaves out
    const { longDate, shortDate } = amzDates(signingDate ?? storageNow(this.client));
    const scope = credentialScope(shortDate, region);
    const path = `${url.pathname}${escapeKey(key)}`;
    // the query's names and values as signed (escaped); the SDK names the operation in every URL it
    // signs (x-id): kept, so the URLs stay the same
    const params: Array<[string, string]> = [
      ['x-id', operation],
      [PAYLOAD_HASH, UNSIGNED_PAYLOAD],
    ];
    for (const name in query) params.push([escapeUri(name), escapeUri(query[name]!)]);
    const signed: Array<[string, string]> = [['host', url.host]];
    for (const name in headers) {
      const lower = name.toLowerCase();
      const value = headers[name]!;
      if (lower.startsWith('x-amz-') && !lower.startsWith('x-amz-server-side-encryption'))
        params.push([escapeUri(name), escapeUri(value)]);
      else signed.push([lower, canonicalValue(value)]);
    }
    signed.sort(byName);
    const signedNames = signed.map(([name]) => name).join(';');
    if (credentials.sessionToken) params.push(['X-Amz-Security-Token', escapeUri(credentials.sessionToken)]);
    params.push(
      ['X-Amz-Algorithm', ALGORITHM],
      ['X-Amz-Credential', escapeUri(`${credentials.accessKeyId}/${scope}`)],
      ['X-Amz-Date', longDate],
      ['X-Amz-Expires', String(expiresIn)],
      ['X-Amz-SignedHeaders', escapeUri(signedNames)],
    );
    const search = params
      .sort(byName)
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    let canonicalRequest = `${METHODS[operation]}\n${path}\n${search}\n`;
    for (const [name, value] of signed) canonicalRequest += `${name}:${value}\n`;
    canonicalRequest += `\n${signedNames}\n${UNSIGNED_PAYLOAD}`;
    const toSign = `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = hmac(this.keys.keyFor(shortDate, region, credentials), toSign).toString('hex');
    return `${url.origin}${path}?${search}&X-Amz-Signature=${signature}`;
  }
}
