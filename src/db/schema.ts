import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

// Timestamps are written as ISO-8601 strings; PostgreSQL hands back Date objects and SQLite
// strings, so rows pass through normalise.ts before they leave a repository.
type Timestamp = ColumnType<Date | string, string, string>;
type NullableTimestamp = ColumnType<Date | string | null, string | null, string | null>;

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  is_staff: ColumnType<boolean | number, boolean, boolean>;
  is_active: ColumnType<boolean | number, boolean, boolean>;
  created_at: Timestamp;
}

export interface SessionsTable {
  /** sha256 of the token: a stolen database does not yield usable tokens */
  token_hash: string;
  user_id: number;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface FilesTable {
  id: Generated<number>;
  file: string;
  original_file_name: string;
  file_name: string;
  file_type: string;
  file_size: ColumnType<number | string | null, number | null | undefined, number | null>;
  /** the uploader's id in whichever user system the app has, as text; no foreign key */
  uploaded_by: string | null;
  upload_finished_at: NullableTimestamp;
  /** when the bytes were received (local uploads, multipart complete, standard uploads) */
  upload_received_at: NullableTimestamp;
  /** where the upload is in its life; only src/core/files/lifecycle.ts moves it */
  state: ColumnType<FileState, FileState | undefined, FileState>;
  /** how the bytes arrive: post (presigned POST / local form), multipart, put (Uppy single PUT), standard */
  upload_method: ColumnType<UploadMethod, UploadMethod | undefined, UploadMethod>;
  /** the storage's multipart upload id while a multipart upload is open */
  upload_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** hex SHA-256 of the whole file, when the client computed one */
  sha256: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * With webhooks on: the file.finished event this file is owed, not yet in the outbox (epoch ms
   * of the change that made it valid; null once written there). See src/core/files/events.ts.
   */
  pending_event_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type UploadMethod = 'post' | 'multipart' | 'put' | 'standard';

/** The states of src/core/files/lifecycle.ts (which owns the transitions), as stored. */
export type FileState = 'pending' | 'receiving' | 'received' | 'completing' | 'valid';

export interface SettingsTable {
  key: string;
  value: string;
}

// Every table of Chute's is named chute_*, so that it sits beside a host app's own tables (its
// `users`, its `files`) in the same database.
export interface Database {
  chute_users: UsersTable;
  chute_sessions: SessionsTable;
  chute_files: FilesTable;
  chute_settings: SettingsTable;
}

export type UserRow = Selectable<UsersTable>;
export type FileRow = Selectable<FilesTable>;
export type FileUpdate = Updateable<FilesTable>;
export type NewFileRow = Insertable<FilesTable>;
