// Chute's own users as the uploaders the admin's file list names (core/files/admin.ts asks; it
// has no user table of its own).
import type { Kysely } from 'kysely';
import type { Uploaders } from '../core/files/admin.js';
import { toNumber } from '../db/normalise.js';
import type { Database } from '../db/schema.js';

export function userUploaders(db: Kysely<Database>): Uploaders {
  return {
    async emailsOf(userIds) {
      const rows = await db.selectFrom('users').select(['id', 'email']).where('id', 'in', userIds).execute();
      return new Map(rows.map((row) => [toNumber(row.id), row.email]));
    },
    async exists(userId) {
      return Boolean(await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst());
    },
    // emails are unique and indexed: the list walks users in email order
    sortKeys: () => db.selectFrom('users').select(['id', 'email as sort_key']).as('uploaders'),
  };
}
