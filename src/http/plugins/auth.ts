import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Actor, assertStaff } from '../../core/actor.js';
import { AppError, notFound } from '../../errors.js';

export interface Authentication {
  actor: Actor;
  /** cookie credentials ride along on cross-site requests by themselves: they need the CSRF check */
  via: 'header' | 'cookie';
  /** an outside identity (a JWT): no row in Chute's users table stands behind the actor */
  external?: boolean;
}

/**
 * "Who is asking?" The one thing the HTTP layer asks of a user system. Returns null when the
 * request carries no credentials; throws not_authenticated when it carries bad ones.
 */
export interface Authenticator {
  authenticate(request: FastifyRequest): Promise<Authentication | null>;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    /** set with `actor`: true when it is an outside identity, not one of Chute's own users */
    actorIsExternal: boolean;
  }
  interface FastifyContextConfig {
    /** a GET that creates something (Uppy's params): cookie callers get the CSRF check as a POST would */
    getWrites?: boolean;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const originOf = (value: string | undefined): string | null => {
  if (!value) return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
};

/**
 * CSRF protection for cookie-authenticated unsafe requests: the browser's Origin (or Referer)
 * must be Chute's own origin or one of CORS_ALLOWED_ORIGINS. Header tokens need no check: a
 * cross-site page cannot set them.
 */
export function isTrustedOrigin(request: FastifyRequest, trustedOrigins: ReadonlySet<string>): boolean {
  const origin = originOf(request.headers.origin) ?? originOf(request.headers.referer);
  if (!origin) return false;
  if (trustedOrigins.has(origin)) return true;
  // same origin as the request itself, whatever name the server was reached by: scheme, host and port
  return request.headers.host !== undefined && origin === originOf(`${request.protocol}://${request.headers.host}`);
}

export function requireUser({
  authenticator,
  trustedOrigins,
}: {
  authenticator: Authenticator;
  trustedOrigins: ReadonlySet<string>;
}) {
  return async function requireUserHook(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const auth = await authenticator.authenticate(request);
    if (!auth) throw new AppError('not_authenticated', 'Authentication credentials were not provided.');
    const writes = !SAFE_METHODS.has(request.method) || request.routeOptions.config.getWrites === true;
    if (auth.via === 'cookie' && writes && !isTrustedOrigin(request, trustedOrigins)) {
      throw new AppError(
        'csrf_failed',
        'Cookie-authenticated requests must come from a trusted origin (Origin header).',
      );
    }
    request.actor = auth.actor;
    request.actorIsExternal = auth.external === true;
  };
}

/** The actor set by requireUser; a route without it is a programming error. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('not_authenticated', 'Authentication credentials were not provided.');
  return request.actor;
}

/** The caller as one of Chute's own users: 404 for an outside identity, which has no account here. */
export function chuteUserIdOf(request: FastifyRequest): string {
  const actor = actorOf(request);
  if (request.actorIsExternal) throw notFound('account');
  return actor.id;
}

export function requireStaff(request: FastifyRequest): void {
  assertStaff(actorOf(request));
}

/**
 * The handler of a route that acts on the file named in its path as the caller and answers 204
 * (delete, abort): the one service call, made with who asks and which file.
 */
export const onFileNoContent =
  <Context>(ctx: Context, service: (ctx: Context, args: { actor: Actor; fileId: number }) => Promise<unknown>) =>
  async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    await service(ctx, { actor: actorOf(request), fileId: Number(request.params.id) });
    return reply.status(204).send({});
  };
