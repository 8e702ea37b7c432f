import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';

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

/**
 * The SDK's presigned URLs (the same query, headers and signature as its getSignedUrl, checked in
 * s3-presign.test.ts) without its middleware stack: getSignedUrl builds a command, runs the
 * endpoint rule engine and clones the client's stack on every call, which was about half of the CPU
 * of a finish, a file page or a list of files in S3 mode. The bucket's URL is resolved once by the
 * SDK itself; the signing is the SDK's own SigV4 presigner.
 */
export class PresignedUrlSigner {
  private readonly presigner: S3RequestPresigner;

  constructor(
    private readonly client: S3Client,
    private readonly address: BucketAddress,
  ) {
    this.presigner = new S3RequestPresigner({ ...client.config });
  }

  async sign({ operation, key, query = {}, headers = {}, expiresIn, signingDate }: PresignRequest): Promise<string> {
    const { url, region } = await this.address.resolve();
    const signed = await this.presigner.presign(
      {
        method: METHODS[operation],
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port && { port: Number(url.port) }),
        path: `${url.pathname}${escapeKey(key)}`,
        // the SDK names the operation in every URL it signs (x-id): kept, so the URLs stay the same
        query: { ...query, 'x-id': operation },
        headers: { ...headers, host: url.host },
      },
      {
        expiresIn,
        signingRegion: region,
        signableHeaders: new Set(Object.keys(headers).map((name) => name.toLowerCase())),
        // on the storage's clock (the offset its answers set), which getSignedUrl leaves out
        signingDate: signingDate ?? storageNow(this.client),
      },
    );
    const search = Object.entries(signed.query as Record<string, string>)
      .map(([name, value]) => `${escapeUri(name)}=${escapeUri(value)}`)
      .join('&');
    return `${url.origin}${signed.path}?${search}`;
  }
}
