// "Who is asking?": all the core knows of users. The standalone server fills it from its own
// sessions; a host app mounting the core fills it from its own auth.
export interface Actor {
  /** the user's id in the app's user system, as text: a host's string or number id, a user of Chute's own */
  id: string;
  isStaff: boolean;
}

export const canAccess = (actor: Actor, ownerId: string | null): boolean => actor.isStaff || ownerId === actor.id;

/** The server itself, acting for a request that carries a signed URL instead of a user. */
export const SYSTEM_ACTOR: Actor = { id: 'chute:system', isStaff: true };
