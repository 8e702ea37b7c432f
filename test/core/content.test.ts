import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contradictingType } from '../../src/core/files/content.js';
import { csv, docx, elf, gif, html, isoMedia, jpeg, json, noise, pdf, pe, png, svg, text, zip } from '../samples.js';

const withBom = (bytes: Buffer) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n  '), bytes]);

// [what, bytes, declared type, the type named as contradicting it or null when it passes]
const cases: Array<[string, Buffer, string, string | null]> = [
  // the label matches
  ['a PNG as image/png', png(), 'image/png', null],
  ['a PNG with parameters on its label', png(), 'IMAGE/PNG; foo=bar', null],
  ['a JPEG as image/jpeg', jpeg(), 'image/jpeg', null],
  ['a JPEG as image/jpg', jpeg(), 'image/jpg', null],
  ['a GIF as image/gif', gif(), 'image/gif', null],
  ['a PDF as application/pdf', pdf(), 'application/pdf', null],
  ['a PDF as application/x-pdf', pdf(), 'application/x-pdf', null],
  ['an Illustrator file (a PDF) as application/postscript', pdf(), 'application/postscript', null],
  ['a ZIP as application/zip', zip({ 'a.txt': 'a' }), 'application/zip', null],
  ['a ZIP as application/x-zip-compressed', zip({ 'a.txt': 'a' }), 'application/x-zip-compressed', null],
  ['a docx as its own type', docx(), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', null],
  ['a docx as application/zip', docx(), 'application/zip', null],
  ['a docx as application/msword', docx(), 'application/msword', null],
  [
    'a ZIP as an xlsx',
    zip({ 'a.txt': 'a' }),
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    null,
  ],
  ['a ZIP as an OpenDocument text', zip({ 'a.txt': 'a' }), 'application/vnd.oasis.opendocument.text', null],
  ['a ZIP as an epub', zip({ 'a.txt': 'a' }), 'application/epub+zip', null],
  ['a ZIP as a jar', zip({ 'a.txt': 'a' }), 'application/java-archive', null],
  ['an MP4 as video/mp4', isoMedia('isom'), 'video/mp4', null],
  ['a QuickTime movie as video/mp4', isoMedia('qt  '), 'video/mp4', null],
  ['an MP4 as video/quicktime', isoMedia('isom'), 'video/quicktime', null],
  ['an MP4 as audio/mp4', isoMedia('isom'), 'audio/mp4', null],
  ['an ELF as application/x-executable', elf(), 'application/x-executable', null],
  [
    'a PE as application/vnd.microsoft.portable-executable',
    pe(),
    'application/vnd.microsoft.portable-executable',
    null,
  ],
  ['HTML as text/html', html(), 'text/html', null],
  ['SVG as image/svg+xml', svg(), 'image/svg+xml', null],
  [
    'an XML prolog as image/svg+xml',
    Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'),
    'image/svg+xml',
    null,
  ],
  // no claim, or a claim this check knows nothing about
  ['an ELF as application/octet-stream', elf(), 'application/octet-stream', null],
  ['HTML as application/octet-stream', html(), 'application/octet-stream', null],
  ['a ZIP as an unknown vendor type', zip({ 'a.txt': 'a' }), 'application/vnd.example.bundle', null],
  // nothing to detect
  ['plain text as text/plain', text(), 'text/plain', null],
  ['CSV starting with BM as text/csv', csv(), 'text/csv', null],
  ['JSON as application/json', json(), 'application/json', null],
  ['plain text as image/png', text(), 'image/png', null],
  ['bytes with no format as image/png', noise(), 'image/png', null],
  ['HTML as text/plain (served as text, never rendered)', html(), 'text/plain', null],
  ['text starting "MZ" (no PE header) as image/png', Buffer.from('MZ,ETZ 250,1985\n'), 'image/png', null],
  [
    'a frame-sync-only MPEG header as image/png',
    Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), noise(400)]),
    'image/png',
    null,
  ],
  // contradictions
  ['HTML as image/png', html(), 'image/png', 'text/html'],
  ['HTML after a BOM and white space as image/png', withBom(html()), 'image/png', 'text/html'],
  ['a bare <script> as image/jpeg', Buffer.from('<script>alert(1)</script>'), 'image/jpeg', 'text/html'],
  [
    'an HTML comment first as image/gif',
    Buffer.from('<!-- x --><img src=x onerror=alert(1)>'),
    'image/gif',
    'text/html',
  ],
  ['HTML as application/pdf', html(), 'application/pdf', 'text/html'],
  ['HTML as an image type unknown here', html(), 'image/x-made-up', 'text/html'],
  ['SVG as image/png', svg(), 'image/png', 'image/svg+xml'],
  ['an XML prolog as image/jpeg', Buffer.from('<?xml version="1.0"?><svg/>'), 'image/jpeg', 'application/xml'],
  ['a ZIP as image/png', zip({ 'a.txt': 'a' }), 'image/png', 'application/zip'],
  [
    'a docx as application/pdf',
    docx(),
    'application/pdf',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  ],
  ['an ELF as application/pdf', elf(), 'application/pdf', 'application/x-elf'],
  ['a PE as application/pdf', pe(), 'application/pdf', 'application/x-msdownload'],
  ['a PE as image/png', pe(), 'image/png', 'application/x-msdownload'],
  ['an ELF as text/plain', elf(), 'text/plain', 'application/x-elf'],
  ['a PNG as text/csv', png(), 'text/csv', 'image/png'],
  ['a PNG as image/jpeg', png(), 'image/jpeg', 'image/png'],
  [
    'an MP3 with its ID3 tag as image/png',
    Buffer.concat([
      Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'),
      Buffer.from([0xff, 0xfb, 0x90, 0x64]),
      noise(400),
    ]),
    'image/png',
    'audio/mpeg',
  ],
  ['a PDF as image/png', pdf(), 'image/png', 'application/pdf'],
  ['a JPEG as video/mp4', jpeg(), 'video/mp4', 'image/jpeg'],
];

test('contradictingType: which bytes contradict which declared type', async () => {
  const wrong: string[] = [];
  for (const [what, bytes, declared, expected] of cases) {
    const got = await contradictingType(bytes.subarray(0, 4096), declared);
    if (got !== expected) wrong.push(`${what}: expected ${expected}, got ${got}`);
  }
  assert.deepEqual(wrong, []);
});

test('contradictingType: an empty head contradicts nothing', async () => {
  assert.equal(await contradictingType(Buffer.alloc(0), 'image/png'), null);
});

test('contradictingType: random bytes contradict no label, whatever their first two bytes', async () => {
  // two bytes are all some file-type signatures rest on ("MZ", "BM", zlib's 0x78 0x01): random or
  // encrypted data starts with one of them about once in 1,700 uploads
  const tail = noise(4094);
  const refused = new Map<string, number>();
  for (let first = 0; first < 256; first++) {
    for (let second = 0; second < 256; second++) {
      const head = Buffer.concat([Buffer.from([first, second]), tail]);
      const got = await contradictingType(head, 'image/png');
      if (got) refused.set(got, (refused.get(got) ?? 0) + 1);
    }
  }
  assert.deepEqual(Object.fromEntries(refused), {});
});
