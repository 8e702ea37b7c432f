import { AppError, fileTooLarge } from '../../errors.js';
import {
  assertAllowedFileType,
  generateFileName,
  guessFileType,
  storageKeyOf,
  validateFileType,
  validateOriginalFileName,
} from './naming.js';
import type { UploadPolicy } from './services.js';

/**
 * What every new upload record is checked against before it exists (direct start, multipart and
 * single-PUT create alike), and the names it is stored under.
 */
export function newFileFields(
  policy: UploadPolicy,
  { fileName, fileType, fileSize }: { fileName: string; fileType: string; fileSize?: number | null | undefined },
) {
  const originalFileName = validateOriginalFileName(fileName);
  const type = validateFileType(fileType);
  assertAllowedFileType(type, policy.allowedTypes);
  if (fileSize !== null && fileSize !== undefined) {
    if (fileSize > policy.maxSize) throw fileTooLarge(policy.maxSize);
    if (fileSize < 1) throw new AppError('file_empty', 'The file is empty.');
  }
  const generatedName = generateFileName(originalFileName);
  return {
    file: storageKeyOf(generatedName),
    original_file_name: originalFileName,
    file_name: generatedName,
    file_type: type,
  };
}

/**
 * The names and type of a file sent through the server (standard upload, admin add and replace):
 * the type is guessed from the name when the client's is missing or generic.
 */
export function serverUploadNames(
  policy: UploadPolicy,
  { fileName, clientType }: { fileName: string; clientType?: string | null | undefined },
): { originalFileName: string; type: string; generatedName: string; key: string } {
  const originalFileName = validateOriginalFileName(fileName);
  const type = guessFileType(originalFileName, clientType);
  assertAllowedFileType(type, policy.allowedTypes);
  const generatedName = generateFileName(originalFileName);
  return { originalFileName, type, generatedName, key: storageKeyOf(generatedName) };
}
