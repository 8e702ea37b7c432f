// The one reader of a multipart form's `file` field, for every route that takes an upload
// through the server (the files API and the admin API).
import type { Readable } from 'node:stream';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { AppError, fileTooLarge } from '../errors.js';

export interface FormFile {
  body: Readable;
  /** as sent, path included: a name with `../` is refused by the core, not cut to its last segment */
  fileName: string;
  clientType: string;
  /** a text field sent before the file, or undefined */
  field(name: string): string | undefined;
  /** Once the bytes are stored: refuses a cut stream and a second file after the first. */
  rest(): Promise<void>;
}

const missing = (detail = 'send it as the multipart field "file".') =>
  new AppError('file_missing', `No file was submitted: ${detail}`);

/**
 * Reads the form up to its `file` part (fields before it are kept, see `field`) and runs `action`
 * on it. Busboy's own limit sits one byte past ours so that the storage's byte counter, not a
 * silent cut, decides what is too large. A refused upload's remaining bytes are read and dropped,
 * so the error reply can reach the client.
 */
export async function withFormFile<T>(
  request: FastifyRequest,
  maxSize: number,
  action: (file: FormFile) => Promise<T>,
): Promise<T> {
  const parts = request.parts({
    preservePath: true,
    limits: { fileSize: maxSize + 1, files: 1, fields: 20, fieldSize: 64 * 1024 },
  });
  let next = await parts.next();
  while (!next.done && !('file' in next.value)) next = await parts.next();
  const part = next.done ? undefined : (next.value as MultipartFile);
  if (!part) throw missing();
  if (part.fieldname !== 'file') {
    part.file.resume();
    throw missing(`the file must be the multipart field "file", not "${part.fieldname}".`);
  }
  // Busboy cuts a stream at its limit rather than failing it: a cut stream is a too-large file.
  const assertComplete = () => {
    if (part.file.truncated) throw fileTooLarge(maxSize);
  };
  const rest = async () => {
    assertComplete();
    for await (const extra of parts) {
      if ('file' in extra) {
        extra.file.resume();
        throw new AppError('payload_too_large', 'Send one file per request.');
      }
    }
  };
  try {
    const result = await action({
      body: part.file,
      fileName: part.filename,
      clientType: part.mimetype,
      field: (name) => fieldOf(part, name),
      rest,
    });
    assertComplete();
    return result;
  } catch (error) {
    if (!part.file.destroyed) part.file.resume();
    throw error;
  }
}

function fieldOf(part: MultipartFile, name: string): string | undefined {
  const field = part.fields[name];
  const single = Array.isArray(field) ? field[0] : field;
  if (single?.type !== 'field') return undefined;
  return String(single.value);
}
