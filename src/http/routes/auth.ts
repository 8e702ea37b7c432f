import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { onRequestHookHandler } from 'fastify';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import type { Config } from '../../config.js';
import type { Database } from '../../db/schema.js';
import { normaliseEmail } from '../../users/repository.js';
import { sessionLogin, sessionLogout, sessionMe } from '../../users/services.js';
import { chuteUserIdOf } from '../plugins/auth.js';
import { clientAddress, rateLimited as rateLimitedError } from '../plugins/rate-limit.js';
import { SESSION_COOKIE, sessionTokenOf } from '../plugins/session-auth.js';
import { Empty, errorResponses } from '../schemas/common.js';
import { LoginBody, LoginResponse } from '../schemas/auth.js';
import { serializeUser } from '../serializers.js';

export interface AuthRoutesOptions {
  db: Kysely<Database>;
  /** LOGIN_RATE_LIMIT: tries per IP and per email in a window */
  loginRateLimit: Config['loginRateLimit'];
  sessionTtlSeconds: number;
  /** the session cookie is Secure when the app is served over https */
  secureCookie: boolean;
  requireUser: onRequestHookHandler;
}

const rateLimited = rateLimitedError('Too many login attempts.');

const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (
  app,
  { db, loginRateLimit, sessionTtlSeconds, secureCookie, requireUser },
) => {
  const tags = ['auth'];
  const { perIp, perEmail, windowMs } = loginRateLimit;
  // A second budget per email: one attacker spread over many IPs still gets few tries per account.
  // (The route's own per-IP limit has run on the request already, so this one is checked by hand.)
  const emailLimiter = app.createRateLimit({
    max: perEmail,
    timeWindow: windowMs,
    keyGenerator: (request) =>
      `login:email:${normaliseEmail(String((request.body as { email?: unknown })?.email ?? ''))}`,
  });

  app.post(
    '/api/auth/login/',
    {
      schema: {
        tags,
        summary: 'Log in with email and password; returns a session token and sets the session cookie',
        body: LoginBody,
        response: { 200: LoginResponse, ...errorResponses(400, 429) },
      },
      config: {
        rateLimit: {
          max: perIp,
          timeWindow: windowMs,
          keyGenerator: (request) => `login:ip:${clientAddress(request)}`,
          errorResponseBuilder: rateLimited,
        },
      },
    },
    async (request, reply) => {
      const perEmailBudget = await emailLimiter(request);
      if (!perEmailBudget.isAllowed && perEmailBudget.isExceeded) {
        reply.header('retry-after', perEmailBudget.ttlInSeconds);
        throw rateLimited(request, { after: `${perEmailBudget.ttlInSeconds} seconds` });
      }
      const { token, user, expiresAt } = await sessionLogin(db, {
        email: request.body.email,
        password: request.body.password,
        ttlSeconds: sessionTtlSeconds,
      });
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookie,
        path: '/',
        expires: expiresAt,
      });
      return { session: token, user: serializeUser(user) };
    },
  );

  app.post(
    '/api/auth/logout/',
    {
      schema: { tags, summary: 'End the current session', response: { 200: Empty, ...errorResponses(401) } },
      onRequest: requireUser,
    },
    async (request, reply) => {
      const credentials = sessionTokenOf(request);
      if (credentials) await sessionLogout(db, credentials.token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return {};
    },
  );

  app.get(
    '/api/auth/me/',
    {
      schema: {
        tags,
        summary: 'The logged-in user; 404 for a JWT user of another identity system (no Chute account)',
        response: { 200: Type.Ref('User'), ...errorResponses(401, 404) },
      },
      onRequest: requireUser,
    },
    async (request) => {
      return serializeUser(await sessionMe(db, chuteUserIdOf(request)));
    },
  );
};

export default authRoutes;
