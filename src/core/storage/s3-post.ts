import type { S3Client } from '@aws-sdk/client-s3';
import { type BucketAddress, storageNow } from './s3-presign.js';
import { ALGORITHM, amzDates, credentialScope, hmac, iso8601, SigningKeys } from './sigv4.js';

export type PostCondition = Record<string, string> | [string, string | number, string | number];

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

/**
 * The same policy and fields as @aws-sdk/s3-presigned-post's createPresignedPost (checked field
 * for field in s3-post.test.ts), for a fraction of its CPU: that one resolves the bucket's
 * endpoint through the SDK's rule engine and derives the SigV4 signing key on every call. Here the
 * URL (the same for every key of a bucket: the key travels as a form field) is the storage's
 * BucketAddress, resolved once by the SDK itself, and the signing key is derived once per day,
 * region and credentials.
 */
export class PresignedPostSigner {
  private readonly keys = new SigningKeys();

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly address: BucketAddress,
  ) {}

  async sign({
    key,
    fields: extraFields,
    conditions: extraConditions,
    expiresIn,
  }: {
    key: string;
    fields: Record<string, string>;
    conditions: PostCondition[];
    expiresIn: number;
  }): Promise<PresignedPost> {
    const config = this.client.config;
    const [url, region, credentials] = await Promise.all([this.bucketUrl(), config.region(), config.credentials()]);
    const now = storageNow(this.client);
    const { longDate, shortDate } = amzDates(now);
    const fields: Record<string, string> = {
      ...extraFields,
      bucket: this.bucket,
      'X-Amz-Algorithm': ALGORITHM,
      'X-Amz-Credential': `${credentials.accessKeyId}/${credentialScope(shortDate, region)}`,
      'X-Amz-Date': longDate,
      ...(credentials.sessionToken && { 'X-Amz-Security-Token': credentials.sessionToken }),
    };
    // conditions first, then one per field, then the key; repeats dropped, as the SDK does
    const unique = new Set(extraConditions.map((condition) => JSON.stringify(condition)));
    for (const [name, value] of Object.entries(fields)) unique.add(JSON.stringify({ [name]: value }));
    unique.add(JSON.stringify({ key }));
    const expiration = iso8601(new Date(now.valueOf() + expiresIn * 1000));
    const policy = Buffer.from(
      `{"expiration":${JSON.stringify(expiration)},"conditions":[${[...unique].join(',')}]}`,
    ).toString('base64');
    const signingKey = this.keys.keyFor(shortDate, region, credentials);
    return {
      url,
      fields: { ...fields, key, Policy: policy, 'X-Amz-Signature': hmac(signingKey, policy).toString('hex') },
    };
  }

  /** The form's URL is the bucket's without the '/' an object's path would follow, as the SDK gives it. */
  private async bucketUrl(): Promise<string> {
    const { url } = await this.address.resolve();
    return url.pathname === '/' ? url.href : url.href.slice(0, -1);
  }
}
