import { AppError, fileTooLarge } from '../../errors.js';
import {
  assertAllowedFileType,
  generateFileName,
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
