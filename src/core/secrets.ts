import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * The key that signs local download links. Kept in the database when not configured, so every
 * process sharing the database signs and verifies alike, and links survive restarts.
 */
export async function getOrCreateSigningSecret(db: Kysely<Database>): Promise<string> {
  const key = 'url_signing_secret';
  await db
    .insertInto('chute_settings')
    .values({ key, value: randomBytes(32).toString('base64url') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('chute_settings').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return row.value;
}
