import type { Kysely, Transaction } from 'kysely';
import { preparedQuery } from '../db/prepared.js';
import { nowIso, toBoolean, toDate, toNumber } from '../db/normalise.js';
import type { Database, UserRow } from '../db/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface User {
  id: number;
  email: string;
  password_hash: string;
  is_staff: boolean;
  is_active: boolean;
  created_at: Date;
}

export const toUser = (row: UserRow): User => ({
  id: toNumber(row.id),
  email: row.email,
  password_hash: row.password_hash,
  is_staff: toBoolean(row.is_staff),
  is_active: toBoolean(row.is_active),
  created_at: toDate(row.created_at),
});

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

export async function insertUser(
  db: Executor,
  values: { email: string; passwordHash: string; isStaff: boolean },
): Promise<User> {
  const row = await db
    .insertInto('chute_users')
    .values({
      email: normaliseEmail(values.email),
      password_hash: values.passwordHash,
      // better-sqlite3 binds no booleans; 0/1 is read back as boolean by both databases
      is_staff: Number(values.isStaff) as unknown as boolean,
      is_active: 1 as unknown as boolean,
      created_at: nowIso(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

export async function findUserByEmail(db: Executor, email: string): Promise<User | undefined> {
  const row = await db
    .selectFrom('chute_users')
    .selectAll()
    .where('email', '=', normaliseEmail(email))
    .executeTakeFirst();
  return row && toUser(row);
}

export async function findUserById(db: Executor, id: number): Promise<User | undefined> {
  const row = await db.selectFrom('chute_users').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function updateUser(
  db: Executor,
  id: number,
  values: { passwordHash?: string; isStaff?: boolean; isActive?: boolean },
): Promise<void> {
  await db
    .updateTable('chute_users')
    .set({
      ...(values.passwordHash !== undefined && { password_hash: values.passwordHash }),
      ...(values.isStaff !== undefined && { is_staff: Number(values.isStaff) as unknown as boolean }),
      ...(values.isActive !== undefined && { is_active: Number(values.isActive) as unknown as boolean }),
    })
    .where('id', '=', id)
    .execute();
}

export async function insertSession(
  db: Executor,
  values: { tokenHash: string; userId: number; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('chute_sessions')
    .values({
      token_hash: values.tokenHash,
      user_id: values.userId,
      created_at: nowIso(),
      expires_at: values.expiresAt.toISOString(),
    })
    .execute();
}

// Runs on every authenticated request: compiled once (see preparedQuery).
const findSessionUserQuery = preparedQuery(['tokenHash', 'now'], (db: Kysely<Database>, param) =>
  db
    .selectFrom('chute_sessions')
    .innerJoin('chute_users', 'chute_users.id', 'chute_sessions.user_id')
    .selectAll('chute_users')
    .where('chute_sessions.token_hash', '=', param.tokenHash)
    .where('chute_sessions.expires_at', '>', param.now),
);

/** The active user behind a live session. */
export async function findSessionUser(db: Executor, tokenHash: string): Promise<User | undefined> {
  const [row] = await findSessionUserQuery(db, { tokenHash, now: nowIso() });
  return row && toUser(row);
}

export async function deleteSession(db: Executor, tokenHash: string): Promise<void> {
  await db.deleteFrom('chute_sessions').where('token_hash', '=', tokenHash).execute();
}

export async function deleteUserSessions(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('chute_sessions').where('user_id', '=', userId).execute();
}

/** One user's ended sessions: by the user's index, so it costs a login next to nothing. */
export async function deleteExpiredUserSessions(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('chute_sessions').where('user_id', '=', userId).where('expires_at', '<=', nowIso()).execute();
}
