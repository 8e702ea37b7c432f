import { actorIdJson } from '../core/actor.js';
import { isValid } from '../core/files/lifecycle.js';
import type { FileRecord } from '../core/files/repository.js';
import { fileUrl } from '../core/files/selectors.js';
import type { FilesContext } from '../core/files/services.js';
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
    is_valid: isValid(file),
    // Chute's own (numbered) users stay numbers, as before uploaders were text
    uploaded_by: file.uploaded_by === null ? null : actorIdJson(file.uploaded_by),
    upload_finished_at: file.upload_finished_at?.toISOString() ?? null,
    created_at: file.created_at.toISOString(),
  };
}

export const serializeUser = (user: User) => ({ id: user.id, email: user.email, is_staff: user.is_staff });
