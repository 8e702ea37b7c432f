import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * The policies of every HTML page Chute serves: the web app (index.html by any path, client-side
 * routes, admin) and the API docs. No framing anywhere (clickjacking), scripts from Chute only, or
 * from Chute and the origin of STATIC_URL (the web app's assets on a CDN).
 */
function pageHeaders(staticOrigin: string | null): Record<string, string> {
  const cdn = staticOrigin ? ` ${staticOrigin}` : '';
  return {
    'content-security-policy': [
      "default-src 'self'",
      `script-src 'self'${cdn}`,
      "img-src 'self' data: blob: https: http:",
      "connect-src 'self' https: http:",
      `style-src 'self' 'unsafe-inline'${cdn}`,
      "frame-ancestors 'none'",
      "base-uri 'self'",
      "form-action 'self'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
  };
}

/**
 * `X-Content-Type-Options: nosniff` on every response (API, web app, static assets, files): a
 * browser then trusts the Content-Type Chute chose and never sniffs a body into HTML or script.
 * HTML responses get the page headers, whichever route or static file answered; a route that set its
 * own policy (the media route) keeps it.
 */
async function securityHeaders(app: FastifyInstance, { staticUrl }: { staticUrl: string | null }) {
  const PAGE_HEADERS = pageHeaders(staticUrl === null ? null : new URL(staticUrl).origin);
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
    if (/^text\/html\b/i.test(String(reply.getHeader('content-type') ?? ''))) {
      for (const [name, value] of Object.entries(PAGE_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    }
    return payload;
  });
}

export default fp(securityHeaders, { name: 'chute-security-headers' });
