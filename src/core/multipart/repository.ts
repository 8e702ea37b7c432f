import type { Kysely } from 'kysely';
import { nowIso } from '../../db/normalise.js';
import { preparedQuery } from '../../db/prepared.js';
import type { Database } from '../../db/schema.js';
import { type EventMark, toFileRecord, type Executor, type FileRecord } from '../files/repository.js';
import { moveState } from '../files/lifecycle.js';

export async function setUploadId(db: Executor, { id, uploadId }: { id: number; uploadId: string }): Promise<void> {
  await db.updateTable('chute_files').set({ upload_id: uploadId, updated_at: nowIso() }).where('id', '=', id).execute();
}

// read on every Uppy part signing: compiled once (see preparedQuery)
const findFileByUploadIdQuery = preparedQuery(['uploadId'], (db: Kysely<Database>, param) =>
  db.selectFrom('chute_files').selectAll().where('upload_id', '=', param.uploadId),
);

export async function findFileByUploadId(db: Executor, uploadId: string): Promise<FileRecord | undefined> {
  const [row] = await findFileByUploadIdQuery(db, { uploadId });
  return row && toFileRecord(row);
}

/** Closes the multipart upload the complete at work joined and makes the record valid. */
export async function markMultipartFinished(
  db: Executor,
  { id, size, sha256, mark = {} }: { id: number; size: number; sha256: string | null; mark?: EventMark },
): Promise<boolean> {
  const now = nowIso();
  return moveState(db, {
    id,
    from: ['completing'],
    to: 'valid',
    set: {
      upload_finished_at: now,
      upload_received_at: now,
      file_size: size,
      sha256,
      upload_id: null,
      updated_at: now,
      ...mark,
    },
  });
}
