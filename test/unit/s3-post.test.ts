import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { PresignedPostSigner, type PostCondition } from '../../src/core/storage/s3-post.js';
import { BucketAddress } from '../../src/core/storage/s3-presign.js';

const clients = {
  'path-style endpoint': new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:19000',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  }),
  'AWS, with a session token': new S3Client({
    region: 'eu-central-1',
    credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret/with+chars', sessionToken: 'token=+/' },
  }),
};

/** Both signers at the same instant: Date.now pinned while each runs. */
async function atInstant<T>(ms: number, work: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => ms;
  try {
    return await work();
  } finally {
    Date.now = realNow;
  }
}

describe('PresignedPostSigner', () => {
  for (const [name, client] of Object.entries(clients)) {
    test(`gives createPresignedPost's url, fields and policy, byte for byte (${name})`, async () => {
      const bucket = 'chute-bucket';
      const signer = new PresignedPostSigner(client, bucket, new BucketAddress(client, bucket));
      const cases: Array<{
        key: string;
        type: string;
        acl: string;
        range: [number, number];
        expires: number;
        at: number;
      }> = [
        {
          key: 'files/0123456789abcdef0123456789abcdef.jpg',
          type: 'image/jpeg',
          acl: 'private',
          range: [1, 10_485_760],
          expires: 600,
          at: Date.UTC(2026, 10, 26, 13, 0, 0, 123),
        },
        // the next UTC day: a new signing key; a unicode type parameter; another ACL and size
        {
          key: 'files/ffff.txt',
          type: 'text/plain; charset="utf-8"',
          acl: 'public-read',
          range: [42, 42],
          expires: 3600,
          at: Date.UTC(2026, 10, 27, 0, 0, 1),
        },
        {
          key: 'files/é ü/naïve.txt',
          type: 'application/octet-stream',
          acl: 'private',
          range: [1, 5 * 2 ** 30],
          expires: 1,
          at: Date.UTC(2026, 10, 26, 23, 59, 59, 999),
        },
      ];
      for (const c of cases) {
        const conditions: PostCondition[] = [
          { acl: c.acl },
          { 'Content-Type': c.type },
          ['content-length-range', ...c.range],
        ];
        const fields = { acl: c.acl, 'Content-Type': c.type };
        const ours = await atInstant(c.at, () => signer.sign({ key: c.key, fields, conditions, expiresIn: c.expires }));
        const sdk = await atInstant(c.at, () =>
          createPresignedPost(client, {
            Bucket: bucket,
            Key: c.key,
            Fields: fields,
            Conditions: conditions as never,
            Expires: c.expires,
          }),
        );
        assert.equal(ours.url, sdk.url);
        assert.deepEqual(Object.entries(ours.fields), Object.entries(sdk.fields)); // order too
        const policy = JSON.parse(Buffer.from(ours.fields.Policy!, 'base64').toString('utf8'));
        assert.equal(
          policy.expiration,
          new Date(Math.floor(c.at / 1000) * 1000 + c.expires * 1000).toISOString().replace('.000Z', 'Z'),
        );
      }
    });
  }
});
