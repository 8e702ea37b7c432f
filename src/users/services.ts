import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../errors.js';
import { userIdOf } from './ids.js';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.js';
import {
  deleteExpiredUserSessions,
  deleteSession,
  deleteUserSessions,
  findSessionUser,
  findUserByEmail,
  findUserById,
  insertSession,
  insertUser,
  updateUser,
  type User,
} from './repository.js';

export const MIN_PASSWORD_LENGTH = 8;
// no spaces and no control characters (NUL, ESC…): PostgreSQL refuses NUL, SQLite would store it
const EMAIL = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]{1,253}$/u;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

function validateNewCredentials(email: string, password: string): void {
  if (!EMAIL.test(email.trim()))
    throw new AppError('validation_failed', `"${email}" is not an email address.`, { field: 'email' });
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`, {
      field: 'password',
    });
  }
}

export async function userCreate(
  db: Kysely<Database>,
  { email, password, isStaff = false }: { email: string; password: string; isStaff?: boolean },
): Promise<User> {
  validateNewCredentials(email, password);
  const exists = () => new AppError('conflict', `A user with the email ${email.trim()} exists already.`);
  if (await findUserByEmail(db, email)) throw exists();
  const passwordHash = await hashPassword(password);
  try {
    return await insertUser(db, { email, passwordHash, isStaff });
  } catch (error) {
    // the same email created meanwhile (hashing takes a while): the unique index decides
    if (isUniqueViolation(error)) throw exists();
    throw error;
  }
}

/** SQLite's and PostgreSQL's words for a row refused by a unique index. */
const isUniqueViolation = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
};

export async function userSetPassword(
  db: Kysely<Database>,
  { userId, password }: { userId: number; password: string },
): Promise<void> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError('validation_failed', `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`, {
      field: 'password',
    });
  }
  await updateUser(db, userId, { passwordHash: await hashPassword(password) });
  await deleteUserSessions(db, userId);
}

export async function userSetActive(
  db: Kysely<Database>,
  { userId, isActive }: { userId: number; isActive: boolean },
): Promise<void> {
  await updateUser(db, userId, { isActive });
  if (!isActive) await deleteUserSessions(db, userId);
}

/** Checks credentials and opens a server-side session; the token is returned once, stored hashed. */
export async function sessionLogin(
  db: Kysely<Database>,
  { email, password, ttlSeconds }: { email: string; password: string; ttlSeconds: number },
): Promise<{ token: string; user: User; expiresAt: Date }> {
  const user = await findUserByEmail(db, email);
  const valid = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
  if (!user || !valid || !user.is_active) {
    throw new AppError('invalid_credentials', 'Unable to log in with the provided credentials.');
  }
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  await insertSession(db, { tokenHash: hashToken(token), userId: user.id, expiresAt });
  // nothing else ever removes an expired session: each login sweeps its user's own
  await deleteExpiredUserSessions(db, user.id);
  return { token, user, expiresAt };
}

export async function sessionUser(db: Kysely<Database>, token: string): Promise<User | undefined> {
  const user = await findSessionUser(db, hashToken(token));
  return user?.is_active ? user : undefined;
}

export async function sessionLogout(db: Kysely<Database>, token: string): Promise<void> {
  await deleteSession(db, hashToken(token));
}

/**
 * The signed-in user of an actor (its id as the core knows it); one gone since the session was
 * checked has no session.
 */
export async function sessionMe(db: Kysely<Database>, actorId: string): Promise<User> {
  const userId = userIdOf(actorId);
  const user = userId === null ? undefined : await findUserById(db, userId);
  if (!user) throw new AppError('not_authenticated', 'Invalid or expired session.');
  return user;
}
