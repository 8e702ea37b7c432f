// "Who is asking?": all the core knows of users. The standalone server fills it from its own
// sessions; a host app mounting the core fills it from its own auth.
import { AppError } from '../errors.js';

export interface Actor {
  id: number;
  isStaff: boolean;
}

export const canAccess = (actor: Actor, ownerId: number | null): boolean => actor.isStaff || ownerId === actor.id;

/** The server itself, acting for a request that carries a signed URL instead of a user. */
export const SYSTEM_ACTOR: Actor = { id: 0, isStaff: true };

/** A user id from outside (a host's user, a token's subject): a string or a number. */
export type OutsideUserId = string | number;

/**
 * The one conversion of an outside user id into an Actor's id. Numeric for now: ids are whole
 * numbers (or strings of digits). TODO(merge): Actor.id becomes an opaque string (H-db); then
 * this is String(user), and a non-numeric id is no longer refused.
 */
export function actorIdOf(user: OutsideUserId): number {
  const id = typeof user === 'number' ? user : /^[0-9]{1,15}$/.test(user) ? Number(user) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1)
    throw new AppError('validation_failed', `A user id is a whole number from 1 for now, not ${JSON.stringify(user)}.`);
  return id;
}
