import { createHash, createHmac } from 'node:crypto';

/** What SigV4 signs with: the SDK's resolved credentials. */
export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const ALGORITHM = 'AWS4-HMAC-SHA256';

export const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
export const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');

/** ISO 8601 in whole seconds, as S3's policies and SigV4 write a time. */
export const iso8601 = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** SigV4's time of signing (20261207T043844Z) and its day (20261207). */
export function amzDates(now: Date): { longDate: string; shortDate: string } {
  const longDate = iso8601(now).replace(/[-:]/g, '');
  return { longDate, shortDate: longDate.slice(0, 8) };
}

export const credentialScope = (shortDate: string, region: string) => `${shortDate}/${region}/s3/aws4_request`;

/**
 * SigV4's signing key: an HMAC chain over the day, region and service, the same for every
 * signature of that UTC day. Derived once and kept (the SDK's signer hashes the credentials on
 * every call to find its cached key, a quarter of the CPU of signing a URL).
 */
export class SigningKeys {
  private cached: { id: string; key: Buffer } | null = null;

  keyFor(shortDate: string, region: string, credentials: SigningCredentials): Buffer {
    const { accessKeyId, secretAccessKey } = credentials;
    const id = `${shortDate}\n${region}\n${accessKeyId}\n${secretAccessKey}`;
    if (this.cached?.id !== id) {
      const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, shortDate), region), 's3'), 'aws4_request');
      this.cached = { id, key };
    }
    return this.cached.key;
  }
}
