// Chute's own users are numbered; the core records who uploaded a file as text, whichever user
// system the app has (core/actor.ts). This is the one mapping between the two: in JavaScript, and
// in SQL for the admin's uploader sort, which joins files to users on it. Both spell a user id
// as its plain decimal digits.
import { sql, type RawBuilder } from 'kysely';

export const actorIdOf = (userId: number): string => String(userId);

/** The user a recorded id names; null for an id that no user of Chute's can have. */
export const userIdOf = (actorId: string): number | null =>
  /^[1-9][0-9]{0,14}$/.test(actorId) ? Number(actorId) : null;

/** chute_users.id as the text files record it under (PostgreSQL compares no text with integers). */
export const userActorIdColumn: RawBuilder<string> = sql<string>`cast(chute_users.id as varchar(255))`;
