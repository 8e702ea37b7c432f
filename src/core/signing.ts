import { createHmac, timingSafeEqual } from 'node:crypto';

// HMAC-signed, expiring links: a local file URL is a capability that cannot be guessed or
// extended, like a presigned S3 GET.
export interface UrlSigner {
  sign(payload: string, expiresAt: number): string;
  verify(payload: string, expiresAt: number, signature: string, now?: number): boolean;
}

export function createUrlSigner(secret: string): UrlSigner {
  const mac = (payload: string, expiresAt: number) =>
    createHmac('sha256', secret).update(`${payload}\n${expiresAt}`).digest('base64url');
  return {
    sign: mac,
    verify(payload, expiresAt, signature, now = Date.now()) {
      if (!Number.isSafeInteger(expiresAt) || expiresAt * 1000 < now) return false;
      const expected = Buffer.from(mac(payload, expiresAt));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
