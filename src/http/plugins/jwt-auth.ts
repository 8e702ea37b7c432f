// Bearer JWTs from an identity system the deployment already has (AUTH_JWT_SECRET, AUTH_JWKS_URL),
// beside Chute's own sessions. A JWT user has no row in Chute's users table: `sub` is all we know.
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../../config.js';
import { type Actor, MAX_ACTOR_ID_LENGTH } from '../../core/actor.js';
import { AppError } from '../../errors.js';
import type { Authentication, Authenticator } from './auth.js';
import { sessionTokenOf } from './session-auth.js';

/** header.payload.signature, base64url each (an empty signature is alg "none": refused below, not a session) */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const HMAC_ALGORITHMS = ['HS256'];
const PUBLIC_KEY_ALGORITHMS = ['RS256', 'ES256'];
// a few seconds of clock skew between the identity system and Chute
const CLOCK_TOLERANCE_SECONDS = 5;

const refused = (message: string) => new AppError('not_authenticated', message);

/** What sets an identity system's users apart from Chute's own (numbered) users in `uploaded_by`. */
export const JWT_ID_PREFIX = 'jwt:';

/**
 * The one place a token's subject becomes an actor id: `jwt:<sub>`, so that a subject that happens
 * to be "7" never owns the files of Chute's own user 7.
 */
export function actorIdOf(sub: unknown): string {
  if (typeof sub !== 'string' || sub === '') throw refused('The token has no "sub" (subject) claim.');
  const id = `${JWT_ID_PREFIX}${sub}`;
  if (id.length > MAX_ACTOR_ID_LENGTH)
    throw refused(`The token's "sub" is longer than ${MAX_ACTOR_ID_LENGTH - JWT_ID_PREFIX.length} characters.`);
  return id;
}

/** Staff when the configured claim equals the value, or is an array holding it. */
function isStaffBy(staffClaim: JwtConfig['staffClaim'], payload: JWTPayload): boolean {
  if (!staffClaim) return false;
  const claimed = payload[staffClaim.claim];
  return Array.isArray(claimed) ? claimed.includes(staffClaim.value) : claimed === staffClaim.value;
}

/** Thrown when the identity system's keys cannot be fetched: its outage, not the caller's fault. */
class KeysUnavailable extends Error {}

/** HS256 tokens by the secret, RS256/ES256 by the JWKS; only the algorithms configured are allowed. */
function keysOf(config: JwtConfig): { algorithms: string[]; getKey: JWTVerifyGetKey } {
  const secret = config.secret === null ? null : new TextEncoder().encode(config.secret);
  // cached; refetched when stale (10 min) or when an unknown kid appears (at most every 30 s)
  const jwks = config.jwksUrl === null ? null : createRemoteJWKSet(new URL(config.jwksUrl));
  const algorithms = [...(secret ? HMAC_ALGORITHMS : []), ...(jwks ? PUBLIC_KEY_ALGORITHMS : [])];
  const getKey: JWTVerifyGetKey = async (header, token) => {
    // jose has checked `alg` against `algorithms` already: HS256 here means a secret is configured
    if (HMAC_ALGORITHMS.includes(header.alg)) return secret!;
    try {
      return await jwks!(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new KeysUnavailable(error instanceof Error ? error.message : String(error));
    }
  };
  return { algorithms, getKey };
}

/** jose's verdict in words for the client; never the token or its claims (jose's errors carry them). */
function refusalOf(error: unknown): AppError {
  if (error instanceof errors.JWTExpired) return refused('The token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const why: Record<string, string> = {
      nbf: 'The token is not valid yet (nbf).',
      iss: 'The token was issued by another issuer (iss).',
      aud: 'The token is meant for another audience (aud).',
      exp: 'The token has no expiry (exp).',
    };
    return refused(why[error.claim] ?? `The token's "${error.claim}" claim is not valid.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return refused('The token is signed with an algorithm this server does not accept.');
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('The token signature is not valid.');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return refused('No key of the identity provider matches the token (kid).');
  return refused('The token is not a valid JWT.');
}

/** Verifies a token and makes its actor; every refusal is 401 not_authenticated. */
export function jwtVerifier(config: JwtConfig): (token: string, log: FastifyBaseLogger) => Promise<Actor> {
  const { algorithms, getKey } = keysOf(config);
  const options = {
    algorithms,
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    ...(config.issuer !== null && { issuer: config.issuer }),
    ...(config.audience !== null && { audience: config.audience }),
  };
  return async (token, log) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, options));
    } catch (error) {
      if (error instanceof KeysUnavailable) {
        log.warn({ jwksUrl: config.jwksUrl, reason: error.message }, 'JWKS could not be fetched');
        throw new AppError('auth_unavailable', "The identity provider's keys cannot be fetched. Try again later.");
      }
      throw refusalOf(error);
    }
    return { id: actorIdOf(payload.sub), isStaff: isStaffBy(config.staffClaim, payload) };
  };
}

/** The token of an `Authorization: Bearer <JWT>` header, or null for anything else (sessions, cookies). */
function bearerJwtOf(request: FastifyRequest): string | null {
  const credentials = sessionTokenOf(request);
  return credentials?.via === 'header' && JWT_SHAPE.test(credentials.token) ? credentials.token : null;
}

/** JWTs first; anything else goes to `sessions` (Chute's own users) as before. */
export function jwtAuthenticator(config: JwtConfig, sessions: Authenticator): Authenticator {
  const verify = jwtVerifier(config);
  return {
    async authenticate(request): Promise<Authentication | null> {
      const token = bearerJwtOf(request);
      if (token === null) return sessions.authenticate(request);
      return { actor: await verify(token, request.log), via: 'header', external: true };
    },
  };
}
