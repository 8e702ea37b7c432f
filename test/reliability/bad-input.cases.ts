// The bad-input corpus: every endpoint, each case with the answer the contract gives it
// (400 bad input, 401 auth, 403 CSRF, 404 unknown or someone else's, 409, 413, 415).
// Cases with `bug` are server bugs described in the report; bad-input.test.ts runs them apart.
import { gzipSync } from 'node:zlib';
import type { InjectOptions } from 'fastify';
import {
  FILE,
  FINISH,
  form,
  JSON_CT,
  localUrl,
  MAX_SIZE,
  STANDARD,
  START,
  type Area,
  type Case,
  type Ctx,
  type Part,
} from './support.js';

const V = 400; // validation_failed
const INT4_PAST = 2 ** 31; // files.id is a PostgreSQL serial (int4)
const BIG_JSON = JSON.stringify({ file_name: 'a'.repeat(2 * 1024 * 1024), file_type: 'text/plain' });
const raw = (payload: string | Buffer, headers: Record<string, string> = JSON_CT) => ({ payload, headers });
const cases: Case[] = [];
const add = (
  area: Area,
  name: string,
  status: Case['status'],
  code: Case['code'],
  req: Case['req'],
  bug?: string,
  s3Bug?: string,
) => cases.push({ area, name, status, code, req, ...(bug && { bug }), ...(s3Bug && { s3Bug }) });

// ---------- every endpoint: credentials, then CSRF for cookie credentials ----------

interface Endpoint {
  area: Area;
  unsafe: boolean;
  req: (c: Ctx) => InjectOptions;
}
const ENDPOINTS: Endpoint[] = [
  { area: 'logout', unsafe: true, req: () => ({ method: 'POST', url: '/api/auth/logout/' }) },
  { area: 'me', unsafe: false, req: () => ({ method: 'GET', url: '/api/auth/me/' }) },
  {
    area: 'start',
    unsafe: true,
    req: () => ({
      method: 'POST',
      url: START,
      headers: JSON_CT,
      payload: '{"file_name":"ok.txt","file_type":"text/plain"}',
    }),
  },
  { area: 'local', unsafe: true, req: (c) => ({ method: 'POST', url: localUrl(c.alicePending), ...form([FILE]) }) },
  {
    area: 'finish',
    unsafe: true,
    req: (c) => ({
      method: 'POST',
      url: FINISH,
      headers: JSON_CT,
      payload: JSON.stringify({ file_id: c.alicePending }),
    }),
  },
  { area: 'standard', unsafe: true, req: () => ({ method: 'POST', url: STANDARD, ...form([FILE]) }) },
  { area: 'list', unsafe: false, req: () => ({ method: 'GET', url: '/api/files/' }) },
  { area: 'get', unsafe: false, req: (c) => ({ method: 'GET', url: `/api/files/${c.alicePending}/` }) },
  { area: 'delete', unsafe: true, req: (c) => ({ method: 'DELETE', url: `/api/files/${c.alicePending}/` }) },
];

const CREDENTIALS: Array<[string, (c: Ctx) => Record<string, string>]> = [
  ['no credentials', () => ({})],
  ['garbage Authorization', () => ({ authorization: 'garbage' })],
  ['Bearer with no token', () => ({ authorization: 'Bearer' })],
  ['Bearer and a space', () => ({ authorization: 'Bearer ' })],
  ["wrong scheme 'Token' with a live token", (c) => ({ authorization: `Token ${c.alice.token}` })],
  ['Basic credentials', () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
  ['two tokens', (c) => ({ authorization: `Bearer ${c.alice.token} ${c.alice.token}` })],
  ['a 64 KiB token', () => ({ authorization: `Bearer ${'a'.repeat(64 * 1024)}` })],
  ['a 3-character token', () => ({ authorization: 'Bearer abc' })],
  [
    'token with characters outside base64url',
    (c) => ({ authorization: `Bearer ${c.alice.token.slice(0, 24)}$%^&*()` }),
  ],
  ['an unknown token', (c) => ({ authorization: `Bearer ${c.tokens.unknown}` })],
  ['an expired session', (c) => ({ authorization: `Bearer ${c.tokens.expired}` })],
  ['a logged-out session', (c) => ({ authorization: `Bearer ${c.tokens.loggedOut}` })],
  ["a deactivated user's session", (c) => ({ authorization: `Session ${c.tokens.inactive}` })],
  ['an unknown session cookie', (c) => ({ cookie: `sessionid=${c.tokens.unknown}` })],
  ['an expired session cookie', (c) => ({ cookie: `sessionid=${c.tokens.expired}` })],
];
for (const endpoint of ENDPOINTS) {
  for (const [label, credentials] of CREDENTIALS) {
    add(endpoint.area, label, 401, 'not_authenticated', (c) => {
      const request = endpoint.req(c);
      return { ...request, headers: { ...(request.headers as Record<string, string>), ...credentials(c) } };
    });
  }
}

const ORIGINS: Array<[string, Record<string, string>]> = [
  ['no Origin', {}],
  ['a foreign Origin', { origin: 'https://evil.example' }],
  ['Origin: null', { origin: 'null' }],
  ['a malformed Origin', { origin: 'not a url' }],
  ['only a foreign Referer', { referer: 'https://evil.example/page' }],
  ["the app's host over https", { origin: 'https://chute.test' }],
  ['a look-alike origin', { origin: 'http://chute.test.evil.example' }],
];
for (const endpoint of ENDPOINTS.filter((e) => e.unsafe)) {
  for (const [label, origin] of ORIGINS) {
    add(endpoint.area, `cookie auth with ${label}`, 403, 'csrf_failed', (c) => {
      const request = endpoint.req(c);
      return { ...request, headers: { ...(request.headers as Record<string, string>), cookie: c.cookie, ...origin } };
    });
  }
}

// ---------- login ----------

const login = (
  area: Area,
  name: string,
  status: Case['status'],
  code: Case['code'],
  body: { payload?: string | Buffer; headers?: Record<string, string> },
) => add(area, name, status, code, () => ({ method: 'POST', url: '/api/auth/login/', ...body }));
const creds = (over: Record<string, unknown>) =>
  raw(JSON.stringify({ email: 'someone@example.com', password: 'password-1', ...over }));
login('login', 'invalid JSON', 400, 'invalid_json', raw('{"email":'));
login('login', 'empty JSON body', 400, 'invalid_json', raw(''));
login('login', 'a JSON array', V, 'validation_failed', raw('[]'));
login('login', 'JSON null', V, 'validation_failed', raw('null'));
login('login', 'a JSON string', V, 'validation_failed', raw('"a"'));
login('login', 'a JSON number', V, 'validation_failed', raw('42'));
login('login', 'an empty object', V, 'validation_failed', raw('{}'));
login('login', 'no password', V, 'validation_failed', raw('{"email":"a@b.c"}'));
login('login', 'email as a number', V, 'validation_failed', creds({ email: 42 }));
login('login', 'password as a number', V, 'validation_failed', creds({ password: 12345678 }));
login('login', 'empty email', V, 'validation_failed', creds({ email: '' }));
login('login', 'a 300-character email', V, 'validation_failed', creds({ email: `${'a'.repeat(290)}@example.com` }));
login('login', 'a 2000-character password', V, 'validation_failed', creds({ password: 'p'.repeat(2000) }));
login('login', 'an unknown key', V, 'validation_failed', creds({ remember: true }));
login('login', 'a nested email', V, 'validation_failed', creds({ email: { $ne: null } }));
login(
  'login',
  'a __proto__ key',
  400,
  'invalid_json',
  raw('{"__proto__":{"is_staff":true},"email":"a@b.c","password":"x"}'),
);
login(
  'login',
  'a text/plain body',
  [400, 415],
  ['validation_failed', 'unsupported_media_type'],
  raw('{"email":"a@b.c","password":"x"}', { 'content-type': 'text/plain' }),
);
login('login', 'an XML body', 415, 'unsupported_media_type', raw('<login/>', { 'content-type': 'application/xml' }));
login(
  'login',
  'a body without Content-Type',
  415,
  'unsupported_media_type',
  raw('{"email":"a@b.c","password":"x"}', {}),
);
login(
  'login',
  'a urlencoded form',
  415,
  'unsupported_media_type',
  raw('email=a%40b.c&password=x', { 'content-type': 'application/x-www-form-urlencoded' }),
);
login('login', 'a body over 1 MiB', 413, 'payload_too_large', raw(BIG_JSON));
login('login', 'a UTF-16 body', 400, 'invalid_json', raw(Buffer.from('{"email":"a@b.c","password":"x"}', 'utf16le')));
login(
  'login',
  'a gzip body',
  400,
  'invalid_json',
  raw(gzipSync('{"email":"a@b.c","password":"x"}'), { ...JSON_CT, 'content-encoding': 'gzip' }),
);
login('login', 'wrong password', 400, 'invalid_credentials', creds({}));
login(
  'login',
  'BOM, then wrong credentials',
  400,
  'invalid_credentials',
  raw(`\uFEFF${JSON.stringify({ email: 'x@example.com', password: 'nope-nope' })}`),
);
add('login', 'an email with NUL', 400, ['invalid_credentials', 'validation_failed'], () => ({
  method: 'POST',
  url: '/api/auth/login/',
  ...creds({ email: 'a\u0000@example.com' }),
}));

// ---------- logout (a spare session, in case one is wrongly accepted) ----------

const spare = (c: Ctx) => ({ authorization: `Bearer ${c.tokens.spare}` });
add('logout', 'an invalid JSON body', 400, 'invalid_json', (c) => ({
  method: 'POST',
  url: '/api/auth/logout/',
  headers: { ...spare(c), ...JSON_CT },
  payload: '{',
}));
add('logout', 'an XML body', 415, 'unsupported_media_type', (c) => ({
  method: 'POST',
  url: '/api/auth/logout/',
  headers: { ...spare(c), 'content-type': 'application/xml' },
  payload: '<x/>',
}));

// ---------- start ----------

const start = (
  name: string,
  status: Case['status'],
  code: Case['code'],
  body: { payload: string | Buffer; headers?: Record<string, string> },
  bug?: string,
) =>
  add(
    'start',
    name,
    status,
    code,
    (c) => ({
      method: 'POST',
      url: START,
      payload: body.payload,
      headers: { ...c.alice.headers, ...(body.headers ?? JSON_CT) },
    }),
    bug,
  );
const startWith = (over: Record<string, unknown>) =>
  raw(JSON.stringify({ file_name: 'a.txt', file_type: 'text/plain', ...over }));
start('invalid JSON', 400, 'invalid_json', raw('{"file_name":'));
start('empty JSON body', 400, 'invalid_json', raw(''));
for (const [label, body] of [
  ['an array', '[]'],
  ['null', 'null'],
  ['a string', '"a.txt"'],
  ['a number', '123'],
  ['true', 'true'],
  ['an empty object', '{}'],
]) {
  start(`JSON ${label}`, V, 'validation_failed', raw(body!));
}
start('no file_type', V, 'validation_failed', raw('{"file_name":"a.txt"}'));
start('no file_name', V, 'validation_failed', raw('{"file_type":"text/plain"}'));
start('an unknown key', V, 'validation_failed', startWith({ extra: 1 }));
start('uploaded_by smuggled in', V, 'validation_failed', startWith({ uploaded_by: 2 }));
start(
  'a __proto__ key',
  400,
  'invalid_json',
  raw('{"__proto__":{"x":1},"file_name":"a.txt","file_type":"text/plain"}'),
);
start(
  'a constructor.prototype key',
  400,
  'invalid_json',
  raw('{"constructor":{"prototype":{"x":1}},"file_name":"a.txt","file_type":"text/plain"}'),
);
for (const [label, value] of [
  ['a number', 123],
  ['an object', { name: 'a' }],
  ['an array', ['a.txt']],
  ['null', null],
  ['true', true],
] as const) {
  start(`file_name as ${label}`, V, 'validation_failed', startWith({ file_name: value }));
  start(`file_type as ${label}`, V, 'validation_failed', startWith({ file_type: value }));
}
start('a 100,000-character file_name', V, 'validation_failed', startWith({ file_name: 'n'.repeat(100_000) }));
start('a body over 1 MiB', 413, 'payload_too_large', raw(BIG_JSON));
start(
  'arrays nested 10,000 deep',
  V,
  'validation_failed',
  raw(`{"file_name":${'['.repeat(10_000)}${']'.repeat(10_000)},"file_type":"text/plain"}`),
);
const badName = (label: string, fileName: string, code: Case['code'] = 'invalid_file_name', bug?: string) =>
  start(`file_name ${label}`, V, code, startWith({ file_name: fileName }), bug);
badName('../etc/passwd', '../etc/passwd');
badName('with a slash', 'a/b.txt');
badName('absolute', '/etc/passwd');
badName('with backslashes', '..\\..\\windows\\win.ini');
badName('with NUL', 'a\u0000b.txt');
badName('of 1,000 characters', 'x'.repeat(1000), 'validation_failed');
badName('of 256 characters', 'x'.repeat(256), 'validation_failed');
badName('of 200 emoji (400 UTF-16 units)', '😀'.repeat(200), ['invalid_file_name', 'validation_failed']);
badName('of only spaces', '     ');
badName('empty', '', 'validation_failed');
badName('"."', '.');
badName('".."', '..');
badName('with BEL', 'a\u0007b.txt');
badName('with a tab', 'a\tb.txt');
badName('with a newline', 'a\nb.txt');
badName('with CRLF and a header', 'a.txt\r\nContent-Type: text/html');
badName('with ESC', 'a\u001b[31m.txt');
badName('with DEL', 'a\u007fb.txt');
badName('with C1 control NEL', 'a\u0085b.txt', 'invalid_file_name');
badName('with C1 control CSI', 'a\u009b31m.txt', 'invalid_file_name');
badName('with U+202E (shown reversed: "invoice_fdp.exe")', 'invoice_\u202efdp.exe');
badName('with U+2066 and U+2069 (bidi isolates)', 'a\u2066b\u2069.txt');
badName('with U+200F (right-to-left mark)', 'a\u200fb.txt');
start(
  'file_name with a lone surrogate',
  V,
  'invalid_file_name',
  raw('{"file_name":"\\ud800.txt","file_type":"text/plain"}'),
);
start(
  'file_name in invalid UTF-8',
  400,
  ['invalid_json', 'invalid_file_name'],
  raw(
    Buffer.concat([
      Buffer.from('{"file_name":"'),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from('.txt","file_type":"text/plain"}'),
    ]),
  ),
);
const badType = (label: string, fileType: string, code: Case['code'] = 'invalid_file_type') =>
  start(`file_type ${label}`, V, code, startWith({ file_type: fileType }));
badType('"not a type"', 'not a type');
badType('empty', '', 'validation_failed');
badType('of spaces', '   ');
badType('of 300 characters', `text/${'x'.repeat(295)}`, 'validation_failed');
badType('of 254 characters, 200 before the slash (127 at most)', `${'a'.repeat(200)}/${'b'.repeat(53)}`);
badType('with CRLF and a header', 'text/html\r\nX: y');
badType('with NUL', 'text/plain\u0000');
badType('"text/"', 'text/');
badType('"/plain"', '/plain');
badType('"text//plain"', 'text//plain');
badType('with a trailing ";"', 'text/plain;');
badType('with CRLF in a quoted parameter', 'text/plain; charset="a\r\nb"');
badType('with markup', '<script>/x');
badType('listing two types', 'image/png, text/html');
// types a header cannot carry: once accepted, every download of the file was a 500 (B13)
start(
  'file_type with CJK in a quoted parameter',
  V,
  'invalid_file_type',
  startWith({ file_type: 'text/plain; name="日本"' }),
);
start('file_type with CRLF before a parameter', V, 'invalid_file_type', startWith({ file_type: 'text/html\r\n;x=y' }));
start(
  'file_type with DEL in a quoted parameter',
  V,
  'invalid_file_type',
  startWith({ file_type: 'text/plain; name="a\u007fb"' }),
);
const badSize = (label: string, body: ReturnType<typeof raw>, status = 400, code: Case['code'] = 'validation_failed') =>
  start(`file_size ${label}`, status, code, body);
badSize('negative', startWith({ file_size: -1 }));
badSize('a float', startWith({ file_size: 1.5 }));
badSize('a string', startWith({ file_size: '10' }));
badSize('null', startWith({ file_size: null }));
badSize('true', startWith({ file_size: true }));
badSize('an array', startWith({ file_size: [10] }));
badSize('1e400 (Infinity)', raw('{"file_name":"a.txt","file_type":"text/plain","file_size":1e400}'));
badSize('0', startWith({ file_size: 0 }), 400, 'file_empty');
badSize('max + 1', startWith({ file_size: MAX_SIZE + 1 }), 413, 'file_too_large');
badSize('1e20', raw('{"file_name":"a.txt","file_type":"text/plain","file_size":1e20}'), 413, 'file_too_large');
badSize(
  'past MAX_SAFE_INTEGER',
  raw('{"file_name":"a.txt","file_type":"text/plain","file_size":9007199254740993}'),
  413,
  'file_too_large',
);
const okStart = '{"file_name":"a.txt","file_type":"text/plain"}';
start(
  'a text/plain body',
  [400, 415],
  ['validation_failed', 'unsupported_media_type'],
  raw(okStart, { 'content-type': 'text/plain' }),
);
start('an XML body', 415, 'unsupported_media_type', raw('<start/>', { 'content-type': 'application/xml' }));
start('a body without Content-Type', 415, 'unsupported_media_type', raw(okStart, {}));
start(
  'a urlencoded form',
  415,
  'unsupported_media_type',
  raw('file_name=a.txt&file_type=text%2Fplain', { 'content-type': 'application/x-www-form-urlencoded' }),
);
start(
  'a multipart form',
  [400, 415],
  ['validation_failed', 'unsupported_media_type'],
  form([
    { name: 'file_name', content: 'a.txt' },
    { name: 'file_type', content: 'text/plain' },
  ]),
);
start(
  'Content-Type application/jsonx',
  415,
  'unsupported_media_type',
  raw(okStart, { 'content-type': 'application/jsonx' }),
);
start(
  'Content-Type application/vnd.api+json',
  415,
  'unsupported_media_type',
  raw(okStart, { 'content-type': 'application/vnd.api+json' }),
);
start("Content-Type ';;;'", 415, 'unsupported_media_type', raw(okStart, { 'content-type': ';;;' }));
start(
  'a UTF-16 body labelled charset=utf-16',
  400,
  ['invalid_json', 'validation_failed'],
  raw(Buffer.from(okStart, 'utf16le'), { 'content-type': 'application/json; charset=utf-16' }),
);
start(
  'a gzip body with Content-Encoding: gzip',
  400,
  'invalid_json',
  raw(gzipSync(okStart), { ...JSON_CT, 'content-encoding': 'gzip' }),
);
start(
  'a BOM, then an unknown key',
  V,
  'validation_failed',
  raw(`\uFEFF${JSON.stringify({ file_name: 'a.txt', file_type: 'text/plain', x: 1 })}`),
);
start('a BOM inside a key', V, 'validation_failed', raw('{"\uFEFFfile_name":"a.txt","file_type":"text/plain"}'));

// ---------- finish ----------

const finish = (
  name: string,
  status: Case['status'],
  code: Case['code'],
  payload: string | ((c: Ctx) => string),
  headers: Record<string, string> = JSON_CT,
) =>
  add('finish', name, status, code, (c) => ({
    method: 'POST',
    url: FINISH,
    headers: { ...c.alice.headers, ...headers },
    payload: typeof payload === 'string' ? payload : payload(c),
  }));
finish('invalid JSON', 400, 'invalid_json', '{"file_id":');
finish('empty JSON body', 400, 'invalid_json', '');
for (const body of ['[]', 'null', '{}', '"1"', '{"id":1}']) finish(`body ${body}`, V, 'validation_failed', body);
const ids: Array<[string, string]> = [
  ['"abc"', '"abc"'],
  ['-1', '-1'],
  ['0', '0'],
  ['"1e3"', '"1e3"'],
  ['1.5', '1.5'],
  ['"1.0"', '"1.0"'],
  ['99999999999999999999', '99999999999999999999'],
  ['"99999999999999999999"', '"99999999999999999999"'],
  ['MAX_SAFE_INTEGER + 1', '9007199254740992'],
  ['Arabic-Indic "٣"', '"٣"'],
  ['fullwidth "１"', '"１"'],
  ['"../1"', '"../1"'],
  ['" 1"', '" 1"'],
  ['"1 "', '"1 "'],
  ['""', '""'],
  ['"0x10"', '"0x10"'],
  ['"-1"', '"-1"'],
  ['true', 'true'],
  ['null', 'null'],
  ['[1]', '[1]'],
  ['{"id":1}', '{"id":1}'],
];
for (const [label, json] of ids) finish(`file_id ${label}`, V, 'validation_failed', `{"file_id":${json}}`);
finish('file_id and an unknown key', V, 'validation_failed', (c) =>
  JSON.stringify({ file_id: c.alicePending, force: true }),
);
finish("bob's file", 404, 'not_found', (c) => JSON.stringify({ file_id: c.bobPending }));
finish("bob's file as a string", 404, 'not_found', (c) => JSON.stringify({ file_id: String(c.bobPending) }));
finish('an id no file has', 404, 'not_found', '{"file_id":987654}');
finish('file_id "0"', 404, 'not_found', '{"file_id":"0"}');
finish('file_id 1e3 (a JSON number for 1000)', 404, 'not_found', '{"file_id":1e3}');
for (const id of [INT4_PAST, Number.MAX_SAFE_INTEGER, `"${INT4_PAST}"`, '"999999999999999"']) {
  add('finish', `file_id ${id} (past PostgreSQL's int4)`, 404, 'not_found', (c) => ({
    method: 'POST',
    url: FINISH,
    headers: { ...c.alice.headers, ...JSON_CT },
    payload: `{"file_id":${id}}`,
  }));
}
finish('a pending file never uploaded', 409, 'upload_missing', (c) => JSON.stringify({ file_id: c.alicePending }));
finish(
  'a text/plain body',
  [400, 415],
  ['validation_failed', 'unsupported_media_type'],
  (c) => JSON.stringify({ file_id: c.bobPending }),
  { 'content-type': 'text/plain' },
);
finish('a body without Content-Type', 415, 'unsupported_media_type', '{"file_id":1}', {});
finish('a body over 1 MiB', 413, 'payload_too_large', JSON.stringify({ file_id: '1'.repeat(2 * 1024 * 1024) }));

// ---------- multipart: direct local upload and standard upload ----------

const BOUNDARY = 'chute-reliability-7d1f';
const okForm = form([FILE]);
// [name, status, code, body, bug, bug with S3 only (standard upload)]
const MULTIPART: Array<
  [
    string,
    Case['status'],
    Case['code'],
    () => { headers: Record<string, string>; payload: Buffer | string },
    string?,
    string?,
  ]
> = [
  [
    'only fields, no file',
    400,
    'file_missing',
    () =>
      form([
        { name: 'title', content: 'x' },
        { name: 'other', content: 'y' },
      ]),
  ],
  ['the file under another field name', 400, 'file_missing', () => form([{ ...FILE, name: 'document' }])],
  ['a "file" field that is not a file', 400, 'file_missing', () => form([{ name: 'file', content: 'hello' }])],
  ['the file under __proto__', 400, 'validation_failed', () => form([{ ...FILE, name: '__proto__' }])],
  ['an empty file', 400, 'file_empty', () => form([{ ...FILE, content: '' }])],
  [
    'a file one byte over the limit',
    413,
    'file_too_large',
    () => form([{ ...FILE, content: Buffer.alloc(MAX_SIZE + 1, 1) }]),
  ],
  ['an empty body', 400, 'file_missing', () => ({ headers: okForm.headers, payload: '' })],
  ['a JSON body', 415, 'unsupported_media_type', () => ({ headers: JSON_CT, payload: '{"file":"aGVsbG8="}' })],
  [
    'a text/plain body',
    415,
    'unsupported_media_type',
    () => ({ headers: { 'content-type': 'text/plain' }, payload: 'hello' }),
  ],
  ['no Content-Type', 415, 'unsupported_media_type', () => ({ headers: {}, payload: 'hello' })],
  [
    'a urlencoded body',
    415,
    'unsupported_media_type',
    () => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'file=hello' }),
  ],
  [
    'multipart/mixed',
    415,
    'unsupported_media_type',
    () => form([FILE], { contentType: `multipart/mixed; boundary=${BOUNDARY}` }),
  ],
  [
    'multipart without a boundary',
    400,
    'validation_failed',
    () => form([FILE], { contentType: 'multipart/form-data' }),
  ],
  [
    'a boundary other than the one used',
    400,
    'validation_failed',
    () => form([FILE], { contentType: 'multipart/form-data; boundary=not-the-one' }),
  ],
  [
    'a body cut in the middle of the file',
    400,
    'validation_failed',
    () => ({ headers: okForm.headers, payload: okForm.payload.subarray(0, okForm.payload.length - 30) }),
  ],
  [
    'garbage instead of multipart',
    400,
    'validation_failed',
    () => ({ headers: okForm.headers, payload: 'garbage, not a form' }),
  ],
  ['a 300-character boundary', 400, 'validation_failed', () => form([FILE], { boundary: 'b'.repeat(300) })],
  [
    'two files',
    [400, 413],
    ['validation_failed', 'payload_too_large'],
    () => form([FILE, { ...FILE, filename: 'b.txt' }]),
  ],
];
for (const [label, status, code, body, bug, s3Bug] of MULTIPART) {
  add(
    'local',
    label,
    status,
    code,
    (c) => ({ method: 'POST', url: localUrl(c.alicePending), ...withAuth(c, body()) }),
    bug,
  );
  add('standard', label, status, code, (c) => ({ method: 'POST', url: STANDARD, ...withAuth(c, body()) }), bug, s3Bug);
}
function withAuth(c: Ctx, body: { headers: Record<string, string>; payload: Buffer | string }) {
  return { headers: { ...c.alice.headers, ...body.headers }, payload: body.payload };
}

const localAt = (label: string, status: Case['status'], code: Case['code'], id: (c: Ctx) => string | number) =>
  add('local', `id ${label}`, status, code, (c) => ({ method: 'POST', url: localUrl(id(c)), ...withAuth(c, okForm) }));
for (const id of ['abc', '-1', '1e3', '99999999999999999999', '%D9%A3', '1%00', '%201', '1.0'])
  localAt(id, V, 'validation_failed', () => id);
localAt('%2e%2e', [400, 404], ['validation_failed', 'not_found'], () => '%2e%2e');
localAt('0', 404, 'not_found', () => 0);
localAt("of bob's file", 404, 'not_found', (c) => c.bobPending);
localAt('no file has', 404, 'not_found', () => 987654);
for (const id of [INT4_PAST, 999_999_999_999_999]) {
  add('local', `id ${id} (past PostgreSQL's int4)`, 404, 'not_found', (c) => ({
    method: 'POST',
    url: localUrl(id),
    ...withAuth(c, okForm),
  }));
}
localAt('of a file already received', 409, 'upload_already_received', (c) => c.aliceReceived ?? 0);

const stdName = (label: string, filename: string, bug?: string, disposition?: string) =>
  add(
    'standard',
    `file name ${label}`,
    400,
    'invalid_file_name',
    (c) => ({
      method: 'POST',
      url: STANDARD,
      ...withAuth(c, form([{ ...FILE, filename, ...(disposition && { disposition }) } as Part])),
    }),
    bug,
  );
stdName('empty', '');
stdName('of only spaces', '     ');
stdName('"."', '.');
stdName('".."', '..');
stdName('of 1,000 characters', 'x'.repeat(1000));
stdName('of 100,000 characters', 'x'.repeat(100_000));
stdName('with NUL', 'a\u0000b.txt');
stdName('with BEL', 'a\u0007b.txt');
stdName('with ESC', 'a\u001b[31m.txt');
stdName('with DEL', 'a\u007fb.txt');
stdName('with C1 control NEL', 'a\u0085b.txt');
stdName('with U+202E (shown reversed)', 'invoice_\u202efdp.exe');
stdName('../etc/passwd', '../etc/passwd');
stdName('with backslashes', '..\\..\\boot.ini');
stdName(
  '../ in RFC 5987 filename*',
  'x',
  undefined,
  'Content-Disposition: form-data; name="file"; filename*=UTF-8\'\'..%2F..%2Fetc%2Fpasswd',
);

// ---------- list, one file, delete ----------

for (const query of [
  'limit=abc',
  'limit=-1',
  'limit=1.5',
  'limit=99999',
  'limit=',
  'limit=1e3',
  'limit=%D9%A1',
  'limit=1%00',
  'offset=-1',
  'offset=abc',
  'offset=1e3',
  'offset=9999999999',
  'foo=1',
  'limit=1&limit=2',
  'limit[]=1',
]) {
  add('list', `?${query}`, V, 'validation_failed', (c) => ({
    method: 'GET',
    url: `/api/files/?${query}`,
    headers: c.alice.headers,
  }));
}
for (const method of ['GET', 'DELETE'] as const) {
  const area: Area = method === 'GET' ? 'get' : 'delete';
  const at = (label: string, status: Case['status'], code: Case['code'], id: (c: Ctx) => string | number) =>
    add(area, `id ${label}`, status, code, (c) => ({ method, url: `/api/files/${id(c)}/`, headers: c.alice.headers }));
  for (const id of [
    'abc',
    '-1',
    '1e3',
    '99999999999999999999',
    '1234567890123456',
    '%D9%A3',
    '1%00',
    '%201',
    '1.0',
    "1'%20OR%20'1'='1",
  ]) {
    at(id, V, 'validation_failed', () => id);
  }
  at('%2e%2e', [400, 404], ['validation_failed', 'not_found'], () => '%2e%2e');
  at('0', 404, 'not_found', () => 0);
  at("of bob's file", 404, 'not_found', (c) => c.bobPending);
  at('no file has', 404, 'not_found', () => 987654);
  for (const id of [INT4_PAST, 999_999_999_999_999]) {
    add(area, `id ${id} (past PostgreSQL's int4)`, 404, 'not_found', (c) => ({
      method,
      url: `/api/files/${id}/`,
      headers: c.alice.headers,
    }));
  }
}
add('delete', 'JSON Content-Type and no body', 400, 'invalid_json', (c) => ({
  method: 'DELETE',
  url: `/api/files/${c.bobPending}/`,
  headers: { ...c.alice.headers, ...JSON_CT },
}));

// ---------- media (signed local downloads) ----------

const media = (name: string, status: Case['status'], code: Case['code'], url: (c: Ctx) => string | Promise<string>) =>
  add('media', name, status, code, async (c) => ({ method: 'GET', url: await url(c) }));
const SIG = 'A'.repeat(43);
media('no query', 400, 'validation_failed', () => '/media/files/x.txt');
media('expires only', 400, 'validation_failed', () => '/media/files/x.txt?expires=1');
media('expires not a number', 400, 'validation_failed', () => `/media/files/x.txt?expires=abc&signature=${SIG}`);
media(
  'expires of 13 digits',
  400,
  'validation_failed',
  () => `/media/files/x.txt?expires=9999999999999&signature=${SIG}`,
);
media('negative expires', 400, 'validation_failed', () => `/media/files/x.txt?expires=-1&signature=${SIG}`);
media('a short signature', 400, 'validation_failed', () => '/media/files/x.txt?expires=9999999999&signature=abc');
media(
  'a signature with bad characters',
  400,
  'validation_failed',
  () => `/media/files/x.txt?expires=9999999999&signature=${'%2B'.repeat(30)}`,
);
media('a wrong signature', 403, 'permission_denied', () => `/media/files/x.txt?expires=9999999999&signature=${SIG}`);
media(
  'an expired link',
  403,
  'permission_denied',
  async (c) => `/media/files/x.txt?${await c.signedQuery('files/x.txt', -10)}`,
);
media(
  "another key's signature",
  403,
  'permission_denied',
  async (c) => `/media/files/y.txt?${await c.signedQuery('files/x.txt')}`,
);
media(
  'a signed ../etc/passwd',
  [403, 404],
  ['permission_denied', 'not_found'],
  async (c) => `/media/..%2Fetc%2Fpasswd?${await c.signedQuery('../etc/passwd')}`,
);
media('a signed key in .tmp', 404, 'not_found', async (c) => `/media/.tmp/x?${await c.signedQuery('.tmp/x')}`);
add('media', 'a signed key with NUL', 404, 'not_found', async (c) => ({
  method: 'GET',
  url: `/media/files/a%00b?${await c.signedQuery('files/a\u0000b')}`,
}));
media(
  'a signed key no file has',
  404,
  'not_found',
  async (c) => `/media/files/nope.txt?${await c.signedQuery('files/nope.txt')}`,
);
media('a signed link to a pending file', 404, 'not_found', async (c) => {
  const row = await c.app.chute.db
    .selectFrom('chute_files')
    .select('file')
    .where('id', '=', c.alicePending)
    .executeTakeFirstOrThrow();
  return `/media/${row.file}?${await c.signedQuery(row.file)}`;
});
media('the bare /media/ path', [400, 404], ['validation_failed', 'not_found'], () => '/media/');

// ---------- routes that do not exist ----------

for (const [method, url] of [
  ['PUT', '/api/files/1/'],
  ['PATCH', '/api/files/1/'],
  ['POST', '/api/files/'],
  ['GET', START],
  ['DELETE', '/api/files/'],
  ['POST', '/api/auth/me/'],
  ['GET', '/api/auth/login/'],
  ['GET', '/api/nope/'],
  ['POST', '/media/files/x.txt'],
] as const) {
  add('route', `${method} ${url}`, [404, 405], ['not_found', 'method_not_allowed'], (c) => ({
    method,
    url,
    headers: c.alice.headers,
  }));
}

export const CASES: readonly Case[] = cases;
