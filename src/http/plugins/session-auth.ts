import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { AppError } from '../../errors.js';
import { actorIdOf } from '../../users/ids.js';
import { sessionUser } from '../../users/services.js';
import type { Authentication, Authenticator } from './auth.js';

export const SESSION_COOKIE = 'sessionid';
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** The raw session token a request carries, and how. */
export function sessionTokenOf(request: FastifyRequest): { token: string; via: 'header' | 'cookie' } | null {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^(Bearer|Session)(?:\s+(\S*))?\s*$/i.exec(header);
    if (!match)
      throw new AppError(
        'not_authenticated',
        'The Authorization header must be "Bearer <token>" or "Session <token>".',
      );
    if (!match[2]) throw new AppError('not_authenticated', 'Invalid Authorization header: no token provided.');
    return { token: match[2], via: 'header' };
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, via: 'cookie' } : null;
}

/** Chute's own users: server-side sessions looked up by the hash of their token. */
export function sessionAuthenticator(db: Kysely<Database>): Authenticator {
  return {
    async authenticate(request): Promise<Authentication | null> {
      const credentials = sessionTokenOf(request);
      if (!credentials) return null;
      const user = TOKEN.test(credentials.token) ? await sessionUser(db, credentials.token) : undefined;
      if (!user) throw new AppError('not_authenticated', 'Invalid or expired session.');
      return { actor: { id: actorIdOf(user.id), isStaff: user.is_staff }, via: credentials.via };
    },
  };
}
