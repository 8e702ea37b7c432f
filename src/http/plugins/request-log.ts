import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * One JSON line per request, written when the response is sent (Fastify's own request logging is
 * off). The route is the pattern (`/api/files/:id/`), never the raw URL: query strings carry
 * signatures and tokens. Headers and bodies are never logged; the request id comes from the
 * request's logger (reqId).
 */
async function requestLog(app: FastifyInstance) {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    request.log.info(
      {
        method: request.method,
        route: route ?? null,
        // for requests no route matched, the path alone (no query string)
        ...(route === undefined && { path: request.url.split('?')[0] }),
        userId: request.actor?.id ?? null,
        statusCode: reply.statusCode,
        responseTime: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request completed',
    );
  });
}

export default fp(requestLog, { name: 'chute-request-log' });
