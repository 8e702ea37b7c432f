import type { FileJson } from '../core/files/json.js';
import type { User } from '../users/repository.js';
import type { FileOutput } from './schemas/files.js';

// The file JSON is the core's (fileJson, src/core/files/json.ts); the File schema must describe it.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const fileSchemaMatchesCore: Same<FileJson, FileOutput> = true;

export const serializeUser = (user: User) => ({ id: user.id, email: user.email, is_staff: user.is_staff });
