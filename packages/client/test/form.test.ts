import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildUploadForm } from '../src/upload.js';

test('puts every field first, in order, and the file last', async () => {
  const fields = {
    key: 'files/abc.txt',
    acl: 'private',
    'Content-Type': 'text/plain',
    bucket: 'b',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': 'cred',
    'X-Amz-Date': '20250101T000000Z',
    Policy: 'cG9saWN5',
    'X-Amz-Signature': 'sig',
  };
  const form = buildUploadForm(fields, new Blob(['hello'], { type: 'text/plain' }), 'hello.txt');
  const entries = [...form.entries()];
  assert.deepEqual(
    entries.map(([name]) => name),
    [...Object.keys(fields), 'file'],
  );
  for (const [name, value] of entries.slice(0, -1)) assert.equal(value, fields[name as keyof typeof fields]);
  const file = entries.at(-1)![1] as File;
  assert.equal(file.name, 'hello.txt');
  assert.equal(await file.text(), 'hello');
});

test('the multipart body has the file part after the policy fields', async () => {
  const form = buildUploadForm({ key: 'k', policy: 'p' }, new Blob(['bytes']), 'x.bin');
  const text = await new Response(form).text();
  const key = text.indexOf('name="key"');
  const policy = text.indexOf('name="policy"');
  const file = text.indexOf('name="file"; filename="x.bin"');
  assert.ok(key >= 0 && key < policy && policy < file, text);
});

test('empty fields (local storage) give a body with the file only', () => {
  const form = buildUploadForm({}, new Blob(['x']), 'x.txt');
  assert.deepEqual([...form.keys()], ['file']);
});
