// Does an upload's content contradict the type it was declared with? Only the first bytes are
// looked at. What cannot be detected (plain text, CSV, JSON, random or encrypted bytes) passes,
// as does any declared type this module knows nothing about: it refuses only what it can name.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { fileTypeFromBuffer, supportedMimeTypes } from 'file-type';
import { AppError } from '../../errors.js';
import { essenceOf } from './naming.js';

/** How many leading bytes are read to detect a type. */
export const CONTENT_HEAD_BYTES = 4096;

/** Labels that make no claim about the bytes. */
const GENERIC = new Set([
  'application/octet-stream',
  'binary/octet-stream',
  'application/binary',
  'application/unknown',
  'application/x-binary',
  'application/download',
  'application/x-download',
  'application/force-download',
]);

/** Other spellings of one type, as browsers, operating systems and file-type write them. */
const ALIASES: Record<string, string> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'image/x-png': 'image/png',
  'image/apng': 'image/png',
  'image/x-ms-bmp': 'image/bmp',
  'image/x-bmp': 'image/bmp',
  'image/vnd.microsoft.icon': 'image/x-icon',
  'image/ico': 'image/x-icon',
  'image/tif': 'image/tiff',
  'audio/mp3': 'audio/mpeg',
  'audio/x-mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg': 'audio/mpeg',
  'audio/mpg': 'audio/mpeg',
  'audio/x-wav': 'audio/wav',
  'audio/wave': 'audio/wav',
  'audio/vnd.wave': 'audio/wav',
  'audio/x-flac': 'audio/flac',
  'audio/x-aiff': 'audio/aiff',
  'audio/x-midi': 'audio/midi',
  'audio/mid': 'audio/midi',
  'video/avi': 'video/vnd.avi',
  'video/x-msvideo': 'video/vnd.avi',
  'video/msvideo': 'video/vnd.avi',
  'application/x-pdf': 'application/pdf',
  'application/acrobat': 'application/pdf',
  'application/x-gzip': 'application/gzip',
  'application/vnd.rar': 'application/x-rar-compressed',
  'application/x-rar': 'application/x-rar-compressed',
  'application/vnd.sqlite3': 'application/x-sqlite3',
  'text/rtf': 'application/rtf',
  'text/x-vcard': 'text/vcard',
  'video/x-matroska': 'video/matroska',
};

const normalise = (type: string): string => {
  const essence = essenceOf(type);
  return ALIASES[essence] ?? essence;
};

const oneOf = (...types: string[]) => {
  const set = new Set(types);
  return (type: string) => set.has(type);
};

/**
 * Containers and close relatives one label commonly stands for: a detected type and a declared
 * one in the same family are no contradiction (a docx declared as application/zip, a .mov as
 * video/mp4, a .tar.gz as application/x-tar, a NEF as image/tiff).
 */
const FAMILIES: Record<string, (type: string) => boolean> = {
  zip: (type) =>
    oneOf(
      'application/zip',
      'application/x-zip-compressed',
      'application/x-zip',
      'multipart/x-zip',
      'application/java-archive',
      'application/x-java-archive',
      'application/vnd.android.package-archive',
      'application/x-xpinstall',
      'model/3mf',
      'application/vnd.ms-xpsdocument',
      'application/oxps',
      'application/vnd.apple.keynote',
      'application/vnd.apple.pages',
      'application/vnd.apple.numbers',
      // a .docx saved under its old name is still opened by Office
      'application/msword',
      'application/vnd.ms-excel',
      'application/vnd.ms-powerpoint',
    )(type) ||
    type.startsWith('application/vnd.openxmlformats-officedocument.') ||
    type.startsWith('application/vnd.oasis.opendocument.') ||
    type.endsWith('.macroenabled.12') ||
    type.endsWith('+zip'),
  cfb: oneOf(
    'application/x-cfb',
    'application/x-ole-storage',
    'application/msword',
    'application/vnd.ms-excel',
    'application/vnd.ms-powerpoint',
    'application/vnd.ms-outlook',
    'application/vnd.visio',
    'application/x-msi',
    'application/vnd.ms-project',
  ),
  isobmff: oneOf(
    'video/mp4',
    'video/quicktime',
    'video/x-m4v',
    'audio/mp4',
    'audio/x-m4a',
    'audio/m4a',
    'audio/aac',
    'video/3gpp',
    'video/3gpp2',
    'audio/3gpp',
    'audio/3gpp2',
    'application/mp4',
  ),
  heif: oneOf('image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence', 'image/avif'),
  ogg: oneOf('application/ogg', 'audio/ogg', 'video/ogg', 'audio/opus', 'audio/vorbis'),
  matroska: oneOf('video/webm', 'audio/webm', 'video/matroska', 'audio/matroska', 'audio/x-matroska'),
  mpegAudio: oneOf('audio/mpeg', 'audio/aac', 'audio/x-aac', 'audio/aacp'),
  mpegVideo: oneOf('video/mpeg', 'video/mp1s', 'video/mp2p', 'video/mp2t', 'video/x-mpeg'),
  asf: oneOf('video/x-ms-asf', 'audio/x-ms-asf', 'application/vnd.ms-asf', 'video/x-ms-wmv', 'audio/x-ms-wma'),
  tiff: oneOf(
    'image/tiff',
    'image/x-adobe-dng',
    'image/x-canon-cr2',
    'image/x-canon-cr3',
    'image/x-nikon-nef',
    'image/x-sony-arw',
    'image/x-panasonic-rw2',
    'image/x-olympus-orf',
    'image/x-fujifilm-raf',
    'image/x-pentax-pef',
    'image/x-dcraw',
  ),
  // Illustrator files are PDFs; EPS and PostScript are named either way
  pdf: oneOf(
    'application/pdf',
    'application/postscript',
    'application/eps',
    'image/x-eps',
    'application/illustrator',
    'application/vnd.adobe.illustrator',
  ),
  font: (type) =>
    type.startsWith('font/') ||
    oneOf(
      'application/font-woff',
      'application/x-font-woff',
      'application/x-font-ttf',
      'application/x-font-otf',
      'application/font-sfnt',
      'application/vnd.ms-fontobject',
    )(type),
  compressed: oneOf(
    'application/gzip',
    'application/x-tar',
    'application/x-gtar',
    'application/x-tgz',
    'application/x-compressed-tar',
    'application/x-compressed',
    'application/x-bzip',
    'application/x-bzip2',
    'application/x-xz',
    'application/zstd',
    'application/x-zstd',
    'application/x-lzip',
    'application/x-lz4',
    'application/x-compress',
  ),
  executable: oneOf(
    'application/x-msdownload',
    'application/x-dosexec',
    'application/vnd.microsoft.portable-executable',
    'application/x-msdos-program',
    'application/x-ms-dos-executable',
    'application/x-executable',
    'application/x-elf',
    'application/x-sharedlib',
    'application/x-mach-binary',
    'application/x-mach-o-executable',
    'application/x-pie-executable',
    'application/x-object',
  ),
  markup: (type) =>
    oneOf('text/html', 'application/xhtml+xml', 'application/xml', 'text/xml', 'image/svg+xml')(type) ||
    type.endsWith('+xml'),
};

const familiesOf = (type: string): Set<string> =>
  new Set(Object.keys(FAMILIES).filter((family) => FAMILIES[family]!(type)));

const SUPPORTED = new Set([...supportedMimeTypes].map(normalise));

/** Types whose content is text: a binary signature found in text is a coincidence ("BMW,..." starts like a BMP). */
const isTextual = (type: string): boolean =>
  type.startsWith('text/') ||
  type.endsWith('+json') ||
  oneOf(
    'application/json',
    'application/x-ndjson',
    'application/javascript',
    'application/ecmascript',
    'application/yaml',
    'application/x-yaml',
    'application/toml',
    'application/sql',
  )(type);

/** The bytes the WHATWG MIME sniffing spec calls binary: no text file has them. */
const hasBinaryBytes = (head: Uint8Array): boolean =>
  head.some(
    (byte) => byte <= 0x08 || byte === 0x0b || (byte >= 0x0e && byte <= 0x1a) || (byte >= 0x1c && byte <= 0x1f),
  );

// file-type does not detect HTML or SVG. After a BOM and white space, the tags a browser takes
// for HTML (after the WHATWG MIME sniffing spec's signatures), followed by a space, '>' or '/'.
const HTML_TAGS = [
  '!doctype html',
  'html',
  'head',
  'script',
  'iframe',
  'h1',
  'div',
  'font',
  'table',
  'a',
  'style',
  'title',
  'b',
  'body',
  'br',
  'p',
];
const MARKUP = new RegExp(
  `^[\\t\\n\\f\\r ]*<(?:(\\?xml)|(svg)[\\t\\n\\f\\r />]|(!--|(?:${HTML_TAGS.join('|')})[\\t\\n\\f\\r />]))`,
  'i',
);

function sniffMarkup(head: Uint8Array): string | null {
  const match = MARKUP.exec(
    Buffer.from(head.subarray(0, 512))
      .toString('latin1')
      .replace(/^\xef\xbb\xbf/, ''),
  );
  if (!match) return null;
  if (match[1]) return 'application/xml';
  if (match[2]) return 'image/svg+xml';
  return 'text/html';
}

const startsWith = (head: Uint8Array, signature: string): boolean =>
  Buffer.from(head.subarray(0, signature.length)).toString('latin1') === signature;

/** A Windows executable's PE header, where the DOS header's e_lfanew points. */
function hasPeHeader(head: Uint8Array): boolean {
  if (head.length < 0x40) return false;
  const at = Buffer.from(head.buffer, head.byteOffset, head.length).readUInt32LE(0x3c);
  return at + 4 <= head.length && startsWith(head.subarray(at), 'PE\0\0');
}

/**
 * Detections on two bytes or a frame sync ("MZ", "BM", 0x78 0x01, MPEG's 0xFFEx): random or encrypted bytes
 * match one about once in 1,700 uploads, so alone they refuse nothing. Each says when the
 * detection rests on more.
 */
const WEAK_UNLESS: Record<string, (head: Uint8Array) => boolean> = {
  'application/x-msdownload': hasPeHeader,
  'audio/mpeg': (head) => startsWith(head, 'ID3'),
  'application/postscript': (head) => startsWith(head, '%!PS'),
  'image/jxl': (head) => !startsWith(head, '\xff\x0a'),
  'audio/aac': () => false,
  'audio/vnd.dolby.dd-raw': () => false,
  'application/x-compress': () => false,
  'application/x-cpio': (head) => startsWith(head, '0707'),
  'application/x-arj': () => false,
  'video/mp2t': () => false,
  'image/bmp': () => false,
  // zlib's 0x78 0x01: a disk image's own mark ("koly") is in its last 512 bytes, never in the head
  'application/x-apple-diskimage': () => false,
};

async function detectBinary(head: Uint8Array): Promise<string | undefined> {
  const mime = (await fileTypeFromBuffer(head))?.mime;
  if (mime === undefined) return undefined;
  const strong = WEAK_UNLESS[mime];
  return !strong || strong(head) ? mime : undefined;
}

/**
 * The type the bytes are when it contradicts `declared`, else null. Media labels (image/*,
 * audio/*, video/*, font/*) never pass markup or an executable, even with a subtype unknown here.
 */
export async function contradictingType(head: Uint8Array, declared: string): Promise<string | null> {
  const claimed = normalise(declared);
  if (GENERIC.has(claimed)) return null;
  const detected = sniffMarkup(head) ?? (await detectBinary(head));
  if (!detected) return null;
  const found = normalise(detected);
  if (found === claimed) return null;
  const foundFamilies = familiesOf(found);
  const claimedFamilies = familiesOf(claimed);
  if ([...foundFamilies].some((family) => claimedFamilies.has(family))) return null;
  if (isTextual(claimed)) return hasBinaryBytes(head) ? essenceOf(detected) : null;
  const known =
    SUPPORTED.has(claimed) ||
    claimedFamilies.size > 0 ||
    (/^(image|audio|video|font)\//.test(claimed) && (foundFamilies.has('markup') || foundFamilies.has('executable')));
  return known ? essenceOf(detected) : null;
}

export const typeMismatch = (detected: string, declared: string, suffix = ''): AppError =>
  new AppError(
    'upload_type_mismatch',
    `The file's content is ${detected}, not ${essenceOf(declared)} as declared.${suffix}`,
    {
      detected_type: detected,
      declared_type: essenceOf(declared),
    },
  );

/**
 * Passes `body` through once its first bytes are found consistent with `declared`; otherwise
 * fails with upload_type_mismatch before a byte reaches the storage.
 */
export function checkedBody(body: Readable, declared: string): Readable {
  // a body that already failed is left for the storage to report as it does
  if (body.errored || body.destroyed) return body;
  const held: Buffer[] = [];
  let heldBytes = 0;
  let checked = false;
  const release = (callback: TransformCallback) => {
    checked = true;
    const head = Buffer.concat(held);
    held.length = 0;
    contradictingType(head.subarray(0, CONTENT_HEAD_BYTES), declared).then(
      (detected) =>
        detected ? callback(typeMismatch(detected, declared)) : callback(null, head.length ? head : undefined),
      callback,
    );
  };
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (checked) return callback(null, chunk);
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < CONTENT_HEAD_BYTES) return callback();
      release(callback);
    },
    flush(callback) {
      if (checked) return callback();
      release(callback);
    },
  });
  body.on('error', (error) => check.destroy(error));
  // The check may fail before the storage reads from `check` (the local storage first makes its
  // temp folder): without a listener that error would crash the process. The storage still sees
  // it, as the stream's `errored`.
  check.on('error', () => undefined);
  return body.pipe(check);
}
