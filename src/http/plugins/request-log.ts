import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * One JSON line per request, written when the response is sent (Fastify's own request logging is
 * off). The route is the pattern (`/api/files/:id/`), never the raw URL: query strings carry
 * signatures and tokens. Headers and bodies are never logged; the request id comes from the
 * request's logger (reqId, always the server's own).
 */
async function requestLog(app: FastifyInstance) {
  // a client's X-Request-Id is logged beside the server's id when it looks like one: no line
  // breaks or quotes to forge log lines with, no kilobytes of id
  app.setChildLoggerFactory((logger, bindings, options, raw) => {
    const clientReqId = raw.headers['x-request-id'];
    const valid = typeof clientReqId === 'string' && CLIENT_REQUEST_ID.test(clientReqId);
    return logger.child(valid ? { ...bindings, clientReqId } : bindings, options);
  });
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
