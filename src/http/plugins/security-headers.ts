import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * `X-Content-Type-Options: nosniff` on every response (API, web app, static assets, files): a
 * browser then trusts the Content-Type Chute chose and never sniffs a body into HTML or script.
 * Pages add their own CSP, frame and referrer policies (see registerWebApp and the media route).
 */
async function securityHeaders(app: FastifyInstance) {
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('x-content-type-options')) reply.header('x-content-type-options', 'nosniff');
    return payload;
  });
}

export default fp(securityHeaders, { name: 'chute-security-headers' });
