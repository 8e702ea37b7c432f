import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStorageError } from '../src/s3.js';
import { StorageError } from '../src/errors.js';

test('parses an S3 EntityTooLarge error with its details', () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message><ProposedSize>10485761</ProposedSize><MaxSizeAllowed>10485760</MaxSizeAllowed><RequestId>ABC</RequestId><HostId>xyz=</HostId></Error>`;
  assert.deepEqual(parseStorageError(body), {
    code: 'EntityTooLarge',
    message: 'Your proposed upload exceeds the maximum allowed size',
    details: { ProposedSize: '10485761', MaxSizeAllowed: '10485760', RequestId: 'ABC', HostId: 'xyz=' },
  });
});

test('an expired policy is AccessDenied with "Policy expired", and StorageError says so', () => {
  const parsed = parseStorageError(
    '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>',
  );
  assert.equal(parsed?.code, 'AccessDenied');
  const error = new StorageError(403, parsed!.code, parsed!.message, parsed!.details);
  assert.equal(error.expired, true);
  assert.equal(error.kind, 'storage');
  assert.match(error.message, /AccessDenied.*Policy expired/);
  assert.equal(
    new StorageError(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed').expired,
    false,
  );
});

test('decodes XML entities in values', () => {
  const parsed = parseStorageError(
    '<Error><Code>InvalidArgument</Code><Message>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#65;&#x42; &bogus;</Message></Error>',
  );
  assert.equal(parsed?.message, `a <b> & "c" 'd' AB &bogus;`);
});

test('tolerates whitespace and an Error without a Message', () => {
  assert.deepEqual(parseStorageError('<Error>\n  <Code> SlowDown </Code>\n</Error>'), {
    code: 'SlowDown',
    message: '',
    details: {},
  });
});

test('returns null for bodies that are not S3 errors', () => {
  assert.equal(parseStorageError(''), null);
  assert.equal(parseStorageError('<html><body>Bad gateway</body></html>'), null);
  assert.equal(parseStorageError('{"code":"x"}'), null);
  assert.equal(parseStorageError('<Error><Code></Code></Error>'), null);
});
