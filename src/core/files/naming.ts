import { randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import mime from 'mime-types';
import { AppError } from '../../errors.js';

export const MAX_FILE_NAME_LENGTH = 255;
export const FILES_PREFIX = 'files/';

// Control characters (C0 with NUL, DEL, C1), path separators, and the replacement character that
// stands for bytes that were not UTF-8 never belong in a file's name; nor do bidi controls
// (U+202E and kin), which make a name read reversed or reordered ("x\u202efdp.exe" shows as "xexe.pdf").
// biome-ignore lint/suspicious/noControlCharactersInRegex: C0/C1 controls are what a name must not hold
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f/\\\ufffd\p{Bidi_Control}]/u;
const LONE_SURROGATE = /\p{Cs}/u;

/** The name the user's file had. Refused rather than silently rewritten. */
export function validateOriginalFileName(raw: string): string {
  const name = raw.normalize('NFC');
  if (name.trim() === '') throw new AppError('invalid_file_name', 'The file name may not be blank.');
  if (name.length > MAX_FILE_NAME_LENGTH) {
    throw new AppError('invalid_file_name', `The file name may not be longer than ${MAX_FILE_NAME_LENGTH} characters.`);
  }
  if (FORBIDDEN_IN_NAME.test(name) || LONE_SURROGATE.test(name) || name === '.' || name === '..') {
    throw new AppError('invalid_file_name', 'The file name may not contain path separators or control characters.');
  }
  return name;
}

/** Only a short alphanumeric extension survives into the generated name. */
export function safeExtension(originalFileName: string): string {
  const ext = extname(originalFileName).toLowerCase();
  return /^\.[a-z0-9]{1,16}$/.test(ext) ? ext : '';
}

/** uuid4 hex + the original's extension, as the reference does. */
export function generateFileName(originalFileName: string): string {
  return randomUUID().replaceAll('-', '') + safeExtension(originalFileName);
}

export const storageKeyOf = (fileName: string): string => FILES_PREFIX + fileName;

// type/subtype with optional parameters, as RFC 9110 allows; what S3 will compare byte for byte.
const MEDIA_TYPE =
  /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}([ \t]*;[ \t]*[a-z0-9!#$&^_.+-]+=("[\x20\x21\x23-\x5b\x5d-\x7e]*"|[a-z0-9!#$&^_.+-]+))*$/i;

export function validateFileType(raw: string): string {
  const type = raw.trim();
  if (type === '' || type.length > 255 || !MEDIA_TYPE.test(type)) {
    throw new AppError('invalid_file_type', `"${raw.slice(0, 100)}" is not a media type like image/png.`);
  }
  return type;
}

/** `image/png; charset=x` -> `image/png`: what FILE_ALLOWED_TYPES patterns are compared with. */
export const essenceOf = (type: string): string => type.split(';')[0]!.trim().toLowerCase();

/** Whether a type matches one of the patterns (`image/*`, `application/pdf`); no patterns allow all. */
export function isAllowedFileType(type: string, allowedTypes: readonly string[] | undefined): boolean {
  if (!allowedTypes || allowedTypes.length === 0) return true;
  const [main, sub] = essenceOf(type).split('/');
  return allowedTypes.some((pattern) => {
    const [pMain, pSub] = pattern.toLowerCase().split('/');
    return pMain === main && (pSub === '*' || pSub === sub);
  });
}

/** Refuses a type outside FILE_ALLOWED_TYPES with 415 unsupported_media_type. */
export function assertAllowedFileType(type: string, allowedTypes: readonly string[] | undefined): void {
  if (isAllowedFileType(type, allowedTypes)) return;
  throw new AppError(
    'unsupported_media_type',
    `Files of type ${essenceOf(type)} are not accepted here. Accepted: ${allowedTypes!.join(', ')}.`,
    {
      allowed_types: [...allowedTypes!],
    },
  );
}

/** From the name first (as the reference does), then what the client said, then bytes. */
export function guessFileType(fileName: string, clientType?: string | null): string {
  const fromName = mime.lookup(fileName);
  if (fromName) return fromName;
  if (clientType && MEDIA_TYPE.test(clientType.trim())) return clientType.trim();
  return 'application/octet-stream';
}
