import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** app.inject's requests have no real socket */
const socketOf = (raw: { socket?: unknown }): Socket | null =>
  typeof (raw.socket as Socket | undefined)?.setTimeout === 'function' && !(raw.socket as Socket).destroyed
    ? (raw.socket as Socket)
    : null;

/**
 * HTTP_IDLE_TIMEOUT (Fastify's connectionTimeout) is for a client that stops sending or reading.
 * While Chute itself works on a request whose body is all in (a multipart complete joining parts,
 * S3 taking minutes to assemble an object), nothing flows and that is no stall: the timeout is
 * paused from then until the answer starts.
 */
async function idleTimeout(app: FastifyInstance, { idleMs }: { idleMs: number }) {
  app.addHook('onRequest', async (request, reply) => {
    request.raw.once('end', () => {
      if (!reply.raw.headersSent) socketOf(request.raw)?.setTimeout(0);
    });
  });
  app.addHook('preHandler', async (request) => {
    if (request.raw.complete) socketOf(request.raw)?.setTimeout(0);
  });
  app.addHook('onSend', async (request, _reply, payload) => {
    socketOf(request.raw)?.setTimeout(idleMs);
    return payload;
  });
}

export default fp(idleTimeout, { name: 'chute-idle-timeout' });
