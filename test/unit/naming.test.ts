import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../src/errors.js';
import {
  generateFileName,
  guessFileType,
  safeExtension,
  validateFileType,
  validateOriginalFileName,
} from '../../src/core/files/naming.js';

const refused = (fn: () => unknown, code: string) =>
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === code);

describe('file naming', () => {
  test('generated names are uuid hex plus a safe lower-case extension, unique each time', () => {
    assert.match(generateFileName('Photo.JPG'), /^[0-9a-f]{32}\.jpg$/);
    assert.match(generateFileName('archive.tar.gz'), /^[0-9a-f]{32}\.gz$/);
    assert.match(generateFileName('README'), /^[0-9a-f]{32}$/);
    assert.notEqual(generateFileName('a.txt'), generateFileName('a.txt'));
    assert.equal(safeExtension('x.php%00.png'), '.png');
    assert.equal(safeExtension('x.<script>'), '');
    assert.equal(safeExtension(`x.${'a'.repeat(40)}`), '');
  });

  test('original names with path parts, control characters or too many characters are refused', () => {
    for (const name of [
      '../etc/passwd',
      'a/b.txt',
      'a\\b.txt',
      'nul\0.txt',
      'tab\there',
      '.',
      '..',
      '   ',
      'x'.repeat(256),
    ]) {
      refused(() => validateOriginalFileName(name), 'invalid_file_name');
    }
    assert.equal(validateOriginalFileName('résumé final (2).pdf'), 'résumé final (2).pdf');
    assert.equal(validateOriginalFileName('تقرير.pdf'), 'تقرير.pdf'); // right-to-left letters are fine, only the controls are not
  });

  test('bidi controls, which show a name reversed or reordered (U+202E: "x\u202efdp.exe"), are refused', () => {
    for (const control of [
      '\u061c',
      '\u200e',
      '\u200f',
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
    ]) {
      refused(() => validateOriginalFileName(`invoice${control}fdp.exe`), 'invalid_file_name');
    }
    assert.equal(validateOriginalFileName('x'.repeat(255)).length, 255);
  });

  test('file types must be media types; types are guessed from the name first', () => {
    assert.equal(validateFileType('image/png'), 'image/png');
    assert.equal(validateFileType('text/plain; charset=utf-8'), 'text/plain; charset=utf-8');
    for (const type of ['', 'png', 'not a type', 'text/html\r\nX-Evil: 1', `a/${'b'.repeat(300)}`])
      refused(() => validateFileType(type), 'invalid_file_type');
    assert.equal(guessFileType('a.png', 'text/plain'), 'image/png');
    assert.equal(guessFileType('a.unknownext', 'application/x-thing'), 'application/x-thing');
    assert.equal(guessFileType('a.unknownext', ''), 'application/octet-stream');
    assert.equal(guessFileType('a.unknownext', 'garbage'), 'application/octet-stream');
  });
});
