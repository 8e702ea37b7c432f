// A Hono app (on Node through @hono/node-server) with a signed session cookie of its own, and
// Chute's fetch handler at /uploads/*: a Hono middleware reads the app's cookie, and Chute's
// authenticate asks it about the fetch Request.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { type ChuteOptions, createChuteFetchHandler } from '@chute/server';
import { Hono } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';

/** The app's own users (a real app keeps them in its database). */
export const DEMO_USERS = [
  { id: 1, email: 'ada@example.com', password: 'ada-password' },
  { id: 2, email: 'bob@example.com', password: 'bob-password' },
];

export interface ExampleOptions {
  port: number;
  database: string;
  storage: ChuteOptions['storage'];
  /** where browsers reach the app; http://localhost:<port> by default */
  origin?: string;
  /** signs the session cookie; random per process when absent */
  sessionSecret?: string;
}

const SESSION = 'session';
const hash = (password: string, salt: Buffer) => scryptSync(password, salt, 32);

export async function startExample(options: ExampleOptions) {
  const origin = options.origin ?? `http://localhost:${options.port}`;
  const secret = options.sessionSecret ?? randomBytes(32).toString('hex');
  const users = DEMO_USERS.map(({ password, ...user }) => {
    const salt = randomBytes(16);
    return { ...user, salt, hash: hash(password, salt) };
  });
  const app = new Hono();

  // the app's auth, as a Hono middleware: the logged-in user of each request to Chute, kept for
  // authenticate, which gets the plain fetch Request that Chute's handler is called with
  const userOfRequest = new WeakMap<Request, { id: number }>();
  app.use('/uploads/*', async (c, next) => {
    const id = await getSignedCookie(c, secret, SESSION);
    if (id) userOfRequest.set(c.req.raw, { id: Number(id) });
    await next();
  });
  const chute = createChuteFetchHandler({
    database: options.database,
    storage: options.storage,
    publicUrl: `${origin}/uploads`, // the fetch handler takes its mount path from here
    authenticate: async (request) => userOfRequest.get(request) ?? null,
  });
  app.all('/uploads/*', (c) => chute(c.req.raw));

  app.post('/login', async (c) => {
    const { email, password } = await c.req.json<{ email?: string; password?: string }>();
    const user = users.find((u) => u.email === email);
    if (!user || typeof password !== 'string' || !timingSafeEqual(hash(password, user.salt), user.hash)) {
      return c.json({ error: 'Wrong email or password.' }, 401);
    }
    await setSignedCookie(c, SESSION, String(user.id), secret, { httpOnly: true, sameSite: 'Lax', path: '/' });
    return c.json({ id: user.id });
  });
  app.post('/logout', (c) => {
    deleteCookie(c, SESSION, { path: '/' });
    return c.body(null, 204);
  });

  const server = serve({ fetch: app.fetch, port: options.port }) as Server;
  await once(server, 'listening');
  return {
    server,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await chute.close();
    },
  };
}
