// "Who is asking?": all the core knows of users. The standalone server fills it from its own
// sessions; a host app mounting the core fills it from its own auth.
import { AppError } from '../errors.js';

export interface Actor {
  /** the user's id in the app's user system, as text: a host's string or number id, a user of Chute's own */
  id: string;
  isStaff: boolean;
  /** what an embedding host's authenticate returned, opaque here: handed back to its hooks as it was */
  host?: unknown;
}

/** Longest user id a host may hand Chute (the column is varchar(255)). */
export const MAX_ACTOR_ID_LENGTH = 255;

/**
 * A recorded uploader as the API shows it: a whole number when the id is one (Chute's own users,
 * a host's numeric ids), else the host's string as given.
 */
export const actorIdJson = (id: string): number | string => (/^(0|[1-9][0-9]{0,14})$/.test(id) ? Number(id) : id);

/** Who asks for which file: what every service on one file takes. */
export interface FileRequest {
  actor: Actor;
  fileId: number;
}

export const canAccess = (actor: Actor, ownerId: string | null): boolean => actor.isStaff || ownerId === actor.id;

/** Staff only: anyone else is refused with 403 permission_denied. */
export function assertStaff(actor: Actor): void {
  if (!actor.isStaff) throw new AppError('permission_denied', 'Only staff may do this.');
}

/** The server itself, acting for a request that carries a signed URL instead of a user. */
export const SYSTEM_ACTOR: Actor = { id: 'chute:system', isStaff: true };

/** A user id from outside (a host's user, a token's subject): a string or a number. */
export type OutsideUserId = string | number;

/** The one conversion of an outside user id into an Actor's id (text, as `uploaded_by` keeps it). */
export function actorIdOf(user: OutsideUserId): string {
  const valid =
    (typeof user === 'string' && user !== '' && user.length <= MAX_ACTOR_ID_LENGTH) ||
    (typeof user === 'number' && Number.isSafeInteger(user));
  if (!valid) {
    const shown = JSON.stringify(user)?.slice(0, 80);
    throw new AppError(
      'validation_failed',
      `A user id is a whole number or a string of 1 to ${MAX_ACTOR_ID_LENGTH} characters, not ${shown}.`,
    );
  }
  return String(user);
}
