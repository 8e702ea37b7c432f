// Chute's own users as the uploaders the admin's file list names (core/files/admin.ts asks; it
// has no user table of its own). Files record them as text (ids.ts).
import type { Kysely } from 'kysely';
import type { Uploaders } from '../core/files/admin.js';
import { toNumber } from '../db/normalise.js';
import type { Database } from '../db/schema.js';
import { actorIdOf, userActorIdColumn, userIdOf } from './ids.js';

export function userUploaders(db: Kysely<Database>): Uploaders {
  return {
    async emailsOf(actorIds) {
      const userIds = actorIds.map(userIdOf).filter((id) => id !== null);
      if (userIds.length === 0) return new Map();
      const rows = await db.selectFrom('chute_users').select(['id', 'email']).where('id', 'in', userIds).execute();
      return new Map(rows.map((row) => [actorIdOf(toNumber(row.id)), row.email]));
    },
    async exists(actorId) {
      const userId = userIdOf(actorId);
      if (userId === null) return false;
      return Boolean(await db.selectFrom('chute_users').select('id').where('id', '=', userId).executeTakeFirst());
    },
    // emails are unique and indexed: the list walks users in email order, and each one's files
    // off chute_files_uploaded_by_id, looked up by the user's id as text
    sortKeys: () =>
      db
        .selectFrom('chute_users')
        .select([userActorIdColumn.as('id'), 'email as sort_key'])
        .as('uploaders'),
  };
}
