import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiError, isChuteUrl } from '../src/api.js';
import {
  AbortError,
  ChuteApiError,
  type ChuteError,
  NetworkError,
  StorageError,
  StorageUnreachableError,
  isChuteError,
} from '../src/errors.js';
import { checkUploadResponse } from '../src/transport.js';

const classify = (status: number, body: string, toChute: boolean) => {
  try {
    checkUploadResponse({ status, body }, toChute);
    return null;
  } catch (error) {
    return error as ChuteError;
  }
};

test('2xx from the storage or from Chute is success', () => {
  assert.equal(classify(204, '', false), null);
  assert.equal(classify(201, '<PostResponse/>', false), null);
  assert.equal(classify(200, '{"id":1}', true), null);
});

test('status 0 from the storage is StorageUnreachableError, naming CORS', () => {
  const error = classify(0, '', false);
  assert.ok(error instanceof StorageUnreachableError);
  assert.equal(error.kind, 'storage_unreachable');
  assert.match(
    error.message,
    /storage refused the browser's request \(check the bucket's CORS rules\) or the network failed/,
  );
});

test('status 0 from Chute (local upload target) is NetworkError', () => {
  const error = classify(0, '', true);
  assert.ok(error instanceof NetworkError);
  assert.equal(error.kind, 'network');
});

test('an S3 XML error becomes StorageError with its code, message and details', () => {
  const error = classify(
    400,
    '<Error><Code>EntityTooLarge</Code><Message>too big</Message><MaxSizeAllowed>100</MaxSizeAllowed></Error>',
    false,
  );
  assert.ok(error instanceof StorageError);
  assert.equal(error.kind, 'storage');
  assert.equal(error.status, 400);
  assert.equal(error.code, 'EntityTooLarge');
  assert.equal(error.storageMessage, 'too big');
  assert.deepEqual(error.details, { MaxSizeAllowed: '100' });
  assert.equal(error.expired, false);
});

test('a storage error without XML keeps the status', () => {
  const error = classify(502, '<html>Bad Gateway</html>', false);
  assert.ok(error instanceof StorageError);
  assert.equal(error.code, 'HTTP_502');
});

test("Chute's JSON errors on the local upload target become ChuteApiError", () => {
  const error = classify(
    413,
    JSON.stringify({ code: 'file_too_large', message: 'File is too large.', extra: { max_size: 10 } }),
    true,
  );
  assert.ok(error instanceof ChuteApiError);
  assert.equal(error.kind, 'api');
  assert.equal(error.status, 413);
  assert.equal(error.code, 'file_too_large');
  assert.equal(error.message, 'File is too large.');
  assert.deepEqual(error.extra, { max_size: 10 });
  const conflict = classify(409, JSON.stringify({ code: 'upload_already_received', message: 'm' }), true);
  assert.equal((conflict as ChuteApiError).code, 'upload_already_received');
});

test('apiError copes with non-JSON bodies', () => {
  const error = apiError(502, '<html>Bad gateway</html>');
  assert.equal(error.code, 'http_502');
  assert.equal(error.extra, undefined);
  assert.match(error.message, /502/);
});

test('every error is a ChuteError and an Error, with a kind and a name', () => {
  const errors = [
    new ChuteApiError(400, 'x', 'm'),
    new StorageError(403, 'AccessDenied', ''),
    new StorageUnreachableError(),
    new NetworkError(),
    new AbortError(),
  ];
  assert.deepEqual(
    errors.map((e) => e.kind),
    ['api', 'storage', 'storage_unreachable', 'network', 'abort'],
  );
  assert.deepEqual(
    errors.map((e) => e.name),
    ['ChuteApiError', 'StorageError', 'StorageUnreachableError', 'NetworkError', 'AbortError'],
  );
  for (const error of errors) {
    assert.ok(error instanceof Error);
    assert.ok(isChuteError(error));
  }
  assert.equal(isChuteError(new Error('x')), false);
});

test('isChuteUrl: Chute API URLs on the base origin only', () => {
  const base = 'https://chute.example.com';
  assert.equal(isChuteUrl('https://chute.example.com/api/files/upload/direct/local/7/', base), true);
  assert.equal(isChuteUrl('https://bucket.s3.amazonaws.com/', base), false);
  assert.equal(isChuteUrl('https://chute.example.com:8443/api/x/', base), false);
  assert.equal(isChuteUrl('http://chute.example.com/api/x/', base), false);
  // a storage proxied on the same origin is still the storage
  assert.equal(isChuteUrl('https://chute.example.com/storage/bucket/', base), false);
  // a base with a path prefix
  assert.equal(
    isChuteUrl('https://example.com/chute/api/files/upload/direct/local/1/', 'https://example.com/chute/'),
    true,
  );
  assert.equal(isChuteUrl('https://example.com/api/files/', 'https://example.com/chute'), false);
  // a relative base without a page to resolve against
  assert.equal(isChuteUrl('/api/files/', ''), false);
});
