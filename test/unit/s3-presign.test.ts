import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from '../../src/config.js';
import { createS3Client } from '../../src/core/storage/s3.js';
import { BucketAddress, PresignedUrlSigner, type PresignRequest } from '../../src/core/storage/s3-presign.js';

const s3Config = (region: string, endpoint: string | null): S3Config => ({
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  bucket: 'chute-bucket',
  region,
  endpoint,
  defaultAcl: 'private',
  presignedExpiry: 600,
  customDomain: null,
});

// Chute's own clients (an S3-compatible server by path, AWS by bucket host name), and one with
// temporary credentials as an AWS role gives them
const clients = {
  'path-style endpoint': createS3Client(s3Config('us-east-1', 'http://127.0.0.1:19000')),
  AWS: createS3Client(s3Config('eu-west-3', null)),
  'AWS, with a session token': new S3Client({
    region: 'eu-central-1',
    credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret/with+chars', sessionToken: 'token=+/' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }),
};

/** The URL with its query in a fixed order: the order of parameters is not part of the signature. */
function normalised(url: string): string {
  const parsed = new URL(url);
  const query = [...parsed.searchParams].sort(([a], [b]) => (a < b ? -1 : 1));
  return `${parsed.origin}${parsed.pathname}?${new URLSearchParams(query)}`;
}

/** When a presigned URL says it was signed (X-Amz-Date, whole seconds), as epoch milliseconds. */
const datedAt = (url: string): number =>
  Date.parse(
    new URL(url).searchParams
      .get('X-Amz-Date')!
      .replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );

const bucket = 'chute-bucket';
const signingDate = new Date('2026-12-05T08:00:00Z');
const keys = ['files/2026/12/report.pdf', "uploads/ab c/it's (1)*!é+%.png", 'a//b/'];

/** The same operation as Chute signs it and as the SDK's getSignedUrl does. */
function operations(
  key: string,
): Array<{ name: string; ours: PresignRequest; sdk: (client: S3Client) => Promise<string> }> {
  return [
    {
      name: 'GetObject with response headers',
      ours: {
        operation: 'GetObject',
        key,
        query: {
          'response-content-disposition': 'attachment; filename="a b.pdf"',
          'response-content-type': 'text/plain',
        },
        expiresIn: 3600,
      },
      sdk: (client) =>
        getSignedUrl(
          client,
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ResponseContentDisposition: 'attachment; filename="a b.pdf"',
            ResponseContentType: 'text/plain',
          }),
          { expiresIn: 3600, signingDate },
        ),
    },
    {
      name: 'PutObject with signed type, disposition, length and ACL',
      ours: {
        operation: 'PutObject',
        key,
        headers: {
          'content-type': 'image/png',
          'content-disposition': 'attachment',
          'content-length': '1234',
          'x-amz-acl': 'public-read',
        },
        expiresIn: 600,
      },
      sdk: (client) =>
        getSignedUrl(
          client,
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            ContentType: 'image/png',
            ContentDisposition: 'attachment',
            ContentLength: 1234,
            ACL: 'public-read',
          }),
          {
            expiresIn: 600,
            signableHeaders: new Set(['content-type', 'content-disposition', 'content-length']),
            signingDate,
          },
        ),
    },
    {
      name: 'UploadPart with signed Content-MD5 and length',
      ours: {
        operation: 'UploadPart',
        key,
        query: { partNumber: '7', uploadId: 'upload/id+with=chars' },
        headers: { 'content-md5': 'XUFAKrxLKna5cZ2REBfFkg==', 'content-length': '5242880' },
        expiresIn: 900,
      },
      sdk: (client) =>
        getSignedUrl(
          client,
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: 'upload/id+with=chars',
            PartNumber: 7,
            ContentMD5: 'XUFAKrxLKna5cZ2REBfFkg==',
            ContentLength: 5242880,
          }),
          { expiresIn: 900, signableHeaders: new Set(['content-md5', 'content-length']), signingDate },
        ),
    },
    {
      name: 'PutObject with runs of blanks and a tab in a signed header',
      ours: {
        operation: 'PutObject',
        key,
        headers: { 'content-type': 'text/plain', 'content-disposition': ' attachment;\t filename="a   b.txt" ' },
        expiresIn: 600,
      },
      sdk: (client) =>
        getSignedUrl(
          client,
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            ContentType: 'text/plain',
            ContentDisposition: ' attachment;\t filename="a   b.txt" ',
          }),
          { expiresIn: 600, signableHeaders: new Set(['content-type', 'content-disposition']), signingDate },
        ),
    },
    {
      name: 'UploadPart with nothing signed but the host',
      ours: { operation: 'UploadPart', key, query: { partNumber: '1', uploadId: 'u1' }, expiresIn: 900 },
      sdk: (client) =>
        getSignedUrl(client, new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: 'u1', PartNumber: 1 }), {
          expiresIn: 900,
          signingDate,
        }),
    },
  ];
}

describe('PresignedUrlSigner', () => {
  for (const [clientName, client] of Object.entries(clients)) {
    test(`gives getSignedUrl's URL and signature (${clientName})`, async () => {
      const signer = new PresignedUrlSigner(client, new BucketAddress(client, bucket));
      for (const key of keys) {
        for (const { name, ours, sdk } of operations(key)) {
          const expected = await sdk(client);
          const actual = await signer.sign({ ...ours, signingDate });
          assert.equal(normalised(actual), normalised(expected), `${name}, key ${JSON.stringify(key)}`);
        }
      }
    });
  }

  test("a new day or new credentials (as a role's keys rotate) sign with a new key, not the one kept", async () => {
    const credentials = { accessKeyId: 'ASIAFIRST', secretAccessKey: 'first/secret', sessionToken: 'one' };
    const client = new S3Client({
      region: 'eu-west-3',
      // expiring now: the SDK asks again on every use, as it would for a role's keys near their end
      credentials: async () => ({ ...credentials, expiration: new Date() }),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const signer = new PresignedUrlSigner(client, new BucketAddress(client, bucket));
    const nextDay = new Date('2026-12-06T00:00:01Z');
    const steps: Array<[string, Date, () => void]> = [
      ['first', signingDate, () => {}],
      ['same day again', signingDate, () => {}],
      ['next day', nextDay, () => {}],
      ['new secret', nextDay, () => Object.assign(credentials, { secretAccessKey: 'second/secret' })],
      ['new key id', nextDay, () => Object.assign(credentials, { accessKeyId: 'ASIASECOND', sessionToken: 'two' })],
    ];
    for (const [step, date, change] of steps) {
      change();
      const expected = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'files/k1' }), {
        expiresIn: 60,
        signingDate: date,
      });
      const actual = await signer.sign({ operation: 'GetObject', key: 'files/k1', expiresIn: 60, signingDate: date });
      assert.equal(normalised(actual), normalised(expected), step);
    }
  });

  test("signs on the storage's clock: the client's clock offset (set from S3's answers) moves X-Amz-Date", async () => {
    const client = Object.values(clients)[0]!;
    const signer = new PresignedUrlSigner(client, new BucketAddress(client, bucket));
    const signedAt = async () => {
      return datedAt(await signer.sign({ operation: 'GetObject', key: 'k1', expiresIn: 60 }));
    };
    const before = client.config.systemClockOffset;
    try {
      for (const offset of [0, -20 * 60_000, 7 * 60_000]) {
        client.config.systemClockOffset = offset;
        const drift = (await signedAt()) - (Date.now() + offset);
        assert.ok(Math.abs(drift) < 2000, `offset ${offset} ms: signed ${drift} ms away from the storage's clock`);
      }
    } finally {
      client.config.systemClockOffset = before;
    }
  });

  test("an offset of under a second (what S3's Date, in whole seconds, gives a clock in step) signs on this machine's clock: a 1-second URL is not expired as it is made", async () => {
    const client = Object.values(clients)[0]!;
    const signer = new PresignedUrlSigner(client, new BucketAddress(client, bucket));
    const before = client.config.systemClockOffset;
    try {
      for (const offset of [-999, -400, 0]) {
        client.config.systemClockOffset = offset;
        const from = Math.floor(Date.now() / 1000) * 1000;
        const signed = datedAt(await signer.sign({ operation: 'PutObject', key: 'k1', expiresIn: 1 }));
        const to = Math.floor(Date.now() / 1000) * 1000;
        assert.ok(signed >= from && signed <= to, `offset ${offset} ms: dated ${signed - from} ms from this second`);
      }
    } finally {
      client.config.systemClockOffset = before;
    }
  });

  test('a URL to live longer than the week S3 allows is refused, not signed', async () => {
    const client = Object.values(clients)[0]!;
    const signer = new PresignedUrlSigner(client, new BucketAddress(client, bucket));
    const week = 7 * 24 * 3600;
    assert.match(await signer.sign({ operation: 'GetObject', key: 'k1', expiresIn: week }), /X-Amz-Expires=604800/);
    await assert.rejects(signer.sign({ operation: 'GetObject', key: 'k1', expiresIn: week + 1 }), RangeError);
  });

  test('a bucket URL that could not be resolved is tried again on the next call', async () => {
    let calls = 0;
    const flaky = new S3Client({
      region: async () => {
        calls += 1;
        if (calls === 1) throw new Error('no region yet');
        return 'us-east-1';
      },
      endpoint: 'http://127.0.0.1:19000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    const signer = new PresignedUrlSigner(flaky, new BucketAddress(flaky, bucket));
    const request: PresignRequest = { operation: 'GetObject', key: 'k1', expiresIn: 60 };
    await assert.rejects(signer.sign(request), /no region yet/);
    assert.match(await signer.sign(request), /^http:\/\/127\.0\.0\.1:19000\/chute-bucket\/k1\?/);
  });
});
