import type { FileRecord } from '../core/files/repository.js';
import { fileUrl } from '../core/files/selectors.js';
import type { FilesContext } from '../core/files/services.js';
import { userIdOf } from '../users/ids.js';
import type { User } from '../users/repository.js';
import type { FileOutput } from './schemas/files.js';

export async function serializeFile(ctx: FilesContext, file: FileRecord): Promise<FileOutput> {
  return {
    id: file.id,
    original_file_name: file.original_file_name,
    file_name: file.file_name,
    file_type: file.file_type,
    file_size: file.file_size,
    url: await fileUrl(ctx, file),
    is_valid: file.upload_finished_at !== null,
    // the standalone server's JSON names its own (numbered) users, as before uploaders were text
    uploaded_by: file.uploaded_by === null ? null : userIdOf(file.uploaded_by),
    upload_finished_at: file.upload_finished_at?.toISOString() ?? null,
    created_at: file.created_at.toISOString(),
  };
}

export const serializeUser = (user: User) => ({ id: user.id, email: user.email, is_staff: user.is_staff });
