import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

// A refused body is read and dropped up to this many bytes, so the answer reaches the client
// before the connection closes (closing with unread bytes sends a reset, and the client loses it).
const DRAIN_BYTES = 16 * 2 ** 20;
// past that, the answer is out and our side closed; the client gets this long to read it
const LINGER_MS = 5_000;

/**
 * The answer to a request whose body was not read (too large, unauthenticated, a multipart file
 * over its limit) must reach the client, however it sends:
 * - `Expect: 100-continue` (curl): the 100 goes out only once something reads the body, so a
 *   body refused on its declared length is answered before the client sends it.
 * - the body sent at once (fetch): the rest is read and dropped (up to DRAIN_BYTES), and the
 *   connection is kept, instead of closed with bytes unread.
 */
async function refusedBodies(app: FastifyInstance) {
  const refused = new WeakSet<IncomingMessage>();

  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const onListener = (event: string | symbol) => {
      if (event !== 'data' && event !== 'readable') return;
      req.off('newListener', onListener);
      if (!refused.has(req) && !res.headersSent) res.writeContinue();
    };
    req.on('newListener', onListener);
    app.server.emit('request', req, res);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const req = request.raw;
    if (req.complete || req.readableEnded || refused.has(req)) return payload;
    refused.add(req);
    // Fastify closes after a body refused on its length; the drain below keeps the connection usable
    if (reply.getHeader('connection') === 'close') reply.removeHeader('connection');
    let dropped = 0;
    req.unpipe();
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > DRAIN_BYTES && dropped - chunk.length <= DRAIN_BYTES) linger(req, reply.raw);
    });
    req.resume();
    return payload;
  });
}

/** Our side closes once the answer is out; reading goes on a little, then the connection ends. */
function linger(req: IncomingMessage, res: ServerResponse) {
  const close = () => {
    req.socket.end();
    setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  };
  if (res.writableFinished) close();
  else res.once('finish', close);
}

export default fp(refusedBodies, { name: 'chute-refused-bodies' });
