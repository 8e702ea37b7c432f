// What staff do with users (the admin): list, create, deactivate or reactivate, reset a password.
// Writes go through the user services, which end a user's sessions where they must.
import { sql, type Kysely, type SqlBool } from 'kysely';
import { toNumber } from '../db/normalise.js';
import { actorIdOf, userIdOf } from './ids.js';
import type { Database } from '../db/schema.js';
import { AppError, notFound } from '../errors.js';
import { findUserById, normaliseEmail, toUser, type User } from './repository.js';
import { userCreate, userSetActive, userSetPassword } from './services.js';

export interface AdminUser {
  id: number;
  email: string;
  is_staff: boolean;
  is_active: boolean;
  created_at: Date;
  /** files recorded as uploaded by this user */
  file_count: number;
}

const escapeLike = (term: string): string => term.replace(/[\\%_]/g, (c) => `\\${c}`);

async function fileCounts(db: Kysely<Database>, userIds: number[]): Promise<Map<number, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('chute_files')
    .select(['uploaded_by', (eb) => eb.fn.countAll().as('count')])
    .where('uploaded_by', 'in', userIds.map(actorIdOf))
    .groupBy('uploaded_by')
    .execute();
  return new Map(rows.map((row) => [userIdOf(row.uploaded_by!)!, toNumber(row.count as number | string)]));
}

async function withFileCounts(db: Kysely<Database>, users: User[]): Promise<AdminUser[]> {
  const counts = await fileCounts(
    db,
    users.map((user) => user.id),
  );
  return users.map(({ password_hash: _hash, ...user }) => ({ ...user, file_count: counts.get(user.id) ?? 0 }));
}

/** Users by email; `search` matches part of the email. */
export async function adminUserList(
  db: Kysely<Database>,
  { search, limit, offset }: { search?: string | undefined; limit: number; offset: number },
): Promise<{ count: number; users: AdminUser[] }> {
  let base = db.selectFrom('chute_users');
  const term = search?.trim();
  // emails are stored lower-cased: a lower-cased term matches without a case-insensitive operator
  if (term) base = base.where(sql<SqlBool>`email like ${`%${escapeLike(normaliseEmail(term))}%`} escape '\\'`);
  const [rows, total] = await Promise.all([
    base.selectAll().orderBy('email').limit(limit).offset(offset).execute(),
    base.select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow(),
  ]);
  const users = rows.map(toUser);
  return { count: toNumber(total.count as number | string), users: await withFileCounts(db, users) };
}

export async function adminUserGet(db: Kysely<Database>, { userId }: { userId: number }): Promise<AdminUser> {
  const user = await findUserById(db, userId);
  if (!user) throw notFound('user');
  return (await withFileCounts(db, [user]))[0]!;
}

export async function adminUserCreate(
  db: Kysely<Database>,
  { email, password, isStaff }: { email: string; password: string; isStaff: boolean },
): Promise<AdminUser> {
  const user = await userCreate(db, { email, password, isStaff });
  return adminUserGet(db, { userId: user.id });
}

/** Deactivating ends every session of the user at once; staff cannot lock themselves out. */
export async function adminUserSetActive(
  db: Kysely<Database>,
  { actorId, userId, isActive }: { actorId: string; userId: number; isActive: boolean },
): Promise<AdminUser> {
  await adminUserGet(db, { userId });
  if (!isActive && actorIdOf(userId) === actorId)
    throw new AppError('conflict', 'You cannot deactivate your own account.');
  await userSetActive(db, { userId, isActive });
  return adminUserGet(db, { userId });
}

/** A new password; the user's sessions end, so they sign in again with it. */
export async function adminUserSetPassword(
  db: Kysely<Database>,
  { userId, password }: { userId: number; password: string },
): Promise<AdminUser> {
  await adminUserGet(db, { userId });
  await userSetPassword(db, { userId, password });
  return adminUserGet(db, { userId });
}
