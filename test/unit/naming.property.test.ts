// Properties of the naming rules over generated input (fast-check): whatever a client sends as a
// file name or type is either refused with the right code or comes out as something that cannot
// be a path, leave the media root, or break an HTTP header.
import assert from 'node:assert/strict';
import { relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isAppError, type ErrorCode } from '../../src/errors.js';
import { createUrlSigner } from '../../src/core/signing.js';
import { LocalStorage } from '../../src/core/storage/local.js';
import {
  generateFileName,
  guessFileType,
  MAX_FILE_NAME_LENGTH,
  safeExtension,
  storageKeyOf,
  validateFileType,
  validateOriginalFileName,
} from '../../src/core/files/naming.js';

/** Local storage at a fixed root: the properties are about paths, no byte is written. */
const mediaRoot = () =>
  new LocalStorage({ root: '/srv/chute-media', appDomain: 'http://chute.test', signer: createUrlSigner('x') });

const RUNS = { numRuns: 3000 };

// Characters that matter here, mixed with any code point and plain letters.
const tricky = fc.constantFrom(
  '.',
  '..',
  '/',
  '\\',
  '\u0000',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u000b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u00a0',
  '\u2028',
  '\u202e',
  '\u200f',
  '\u2066',
  '\u061c',
  '\ufeff',
  '\ud800',
  '\udc00',
  'é',
  'e\u0301',
  '😀',
  '日',
  '.tmp',
  ';',
  '"',
  '=',
  '*',
  '+',
);
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: tricky },
  { weight: 4, arbitrary: fc.constantFrom(...'abcxyzABC0189-_') },
);
const text = (maxLength: number) => fc.string({ unit, maxLength });
const names = fc.oneof(
  text(40),
  fc.string({ unit, minLength: 240, maxLength: 300 }),
  fc.tuple(text(12), text(6)).map(([base, ext]) => `${base}.${ext}`),
  fc
    .tuple(fc.constantFrom('../', '..\\', '/', './', 'C:\\fakepath\\'), text(20))
    .map(([prefix, rest]) => prefix + rest),
);
const token = fc.string({ unit: fc.constantFrom(...'abcz09+-.'), minLength: 1, maxLength: 12 });
const types = fc.oneof(
  text(60),
  fc.tuple(token, token).map(([main, sub]) => `${main}/${sub}`),
  fc
    .tuple(
      token,
      token,
      text(8),
      text(12),
      fc.constantFrom(';', ' ; ', '\n;', '\r\n;', '\t;', '\u00a0;', '\u2028;'),
      fc.boolean(),
    )
    .map(
      ([main, sub, key, value, separator, quoted]) =>
        `${main}/${sub}${separator}${key || 'k'}=${quoted ? `"${value}"` : value || 'v'}`,
    ),
);

/** The function's result, or null when it refused with exactly `code`. */
function attempt<T>(code: ErrorCode, fn: () => T): T | null {
  try {
    return fn();
  } catch (error) {
    if (isAppError(error) && error.code === code) return null;
    throw error;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the property is exactly that no control character gets through
const C0_OR_DEL = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** what Node lets into a header value without ERR_INVALID_CHAR, and what no proxy will mangle */
const HEADER_SAFE = /^[\t\u0020-\u007e]*$/;

describe('file names', () => {
  test('a name is refused with invalid_file_name, or kept as an NFC name that cannot be a path', () => {
    fc.assert(
      fc.property(names, (raw) => {
        const name = attempt('invalid_file_name', () => validateOriginalFileName(raw));
        if (name === null) return;
        assert.equal(name, raw.normalize('NFC'));
        assert.notEqual(name.trim(), '');
        assert.ok(name.length <= MAX_FILE_NAME_LENGTH);
        assert.doesNotMatch(name, C0_OR_DEL);
        assert.doesNotMatch(name, /[/\\]/);
        assert.ok(name !== '.' && name !== '..');
      }),
      RUNS,
    );
  });

  test('an accepted name has no C1 control, no bidi control and no lone surrogate (B3, B4)', () => {
    fc.assert(
      fc.property(names, (raw) => {
        const name = attempt('invalid_file_name', () => validateOriginalFileName(raw));
        if (name === null) return;
        assert.doesNotMatch(name, /[\u0080-\u009f]/);
        assert.doesNotMatch(name, /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
        assert.doesNotMatch(name, LONE_SURROGATE);
      }),
      RUNS,
    );
  });

  test('the extension kept is empty or a dot and 1-16 lower-case letters and digits', () => {
    fc.assert(
      fc.property(names, (raw) => {
        assert.match(safeExtension(raw), /^(\.[a-z0-9]{1,16})?$/);
      }),
      RUNS,
    );
  });

  test("an accepted name's generated name and key stay in files/ under the media root", () => {
    const storage = mediaRoot();
    fc.assert(
      fc.property(names, (raw) => {
        const name = attempt('invalid_file_name', () => validateOriginalFileName(raw));
        if (name === null) return;
        const generated = generateFileName(name);
        assert.match(generated, /^[0-9a-f]{32}(\.[a-z0-9]{1,16})?$/);
        assert.equal(storage.pathOf(storageKeyOf(generated)), `${storage.root}${sep}files${sep}${generated}`);
      }),
      RUNS,
    );
  });

  test('LocalStorage.pathOf: any key is refused with not_found, or a path inside the root reaching no dot-folder', () => {
    const storage = mediaRoot();
    const keys = fc.oneof(
      text(40),
      fc
        .array(fc.oneof(text(8), fc.constantFrom('..', '.', '.tmp', '', 'files')), { maxLength: 6 })
        .map((s) => s.join('/')),
    );
    fc.assert(
      fc.property(keys, (key) => {
        const path = attempt('not_found', () => storage.pathOf(key));
        if (path === null) return;
        assert.ok(path.startsWith(storage.root + sep), path);
        assert.ok(
          !relative(storage.root, path)
            .split(sep)
            .some((segment) => segment.startsWith('.')),
          path,
        );
        assert.ok(!path.includes('\0'));
      }),
      RUNS,
    );
  });
});

describe('file types', () => {
  test('a type is refused with invalid_file_type, or kept trimmed, within 255 characters, type/subtype first', () => {
    fc.assert(
      fc.property(types, (raw) => {
        const type = attempt('invalid_file_type', () => validateFileType(raw));
        if (type === null) return;
        assert.equal(type, raw.trim());
        assert.ok(type.length <= 255);
        assert.match(type, /^[a-z0-9][^/\s;]*\/[a-z0-9][^/\s;]*/i);
      }),
      RUNS,
    );
  });

  test('an accepted type is one an HTTP header can carry: no CR, LF, DEL or non-ASCII (B13)', () => {
    fc.assert(
      fc.property(types, (raw) => {
        const type = attempt('invalid_file_type', () => validateFileType(raw));
        if (type !== null) assert.match(type, HEADER_SAFE);
      }),
      RUNS,
    );
  });

  test('the type guessed for a standard upload is one validateFileType accepts unchanged', () => {
    fc.assert(
      fc.property(names, fc.option(types, { nil: undefined }), (name, clientType) => {
        const guessed = guessFileType(name, clientType);
        assert.equal(validateFileType(guessed), guessed);
      }),
      RUNS,
    );
  });
});
