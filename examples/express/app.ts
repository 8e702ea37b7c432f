// An Express 5 app with users of its own (a login form, a signed session cookie) and Chute's file
// API mounted at /uploads: Chute asks the app who is logged in, and records the app's user ids.
import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createChuteHandler, type ChuteOptions } from '@chute/server';
import express from 'express';

interface User {
  id: number;
  email: string;
  name: string;
  /** scrypt of the password with this salt */
  salt: Buffer;
  hash: Buffer;
}

/** The app's own users (a real app keeps them in its database). */
export const DEMO_USERS = [
  { id: 1, email: 'ada@example.com', name: 'Ada', password: 'ada-password' },
  { id: 2, email: 'bob@example.com', name: 'Bob', password: 'bob-password' },
];

export interface ExampleOptions {
  port: number;
  /** 'sqlite:<path>' or 'postgres://...' */
  database: string;
  storage: ChuteOptions['storage'];
  /** where browsers reach the app; http://localhost:<port> by default */
  origin?: string;
  /** signs session cookies; random per process when absent (everyone is logged out by a restart) */
  sessionSecret?: string;
}

const SESSION_COOKIE = 'session';
const hashPassword = (password: string, salt: Buffer) => scryptSync(password, salt, 32);

function userStore() {
  const users: User[] = DEMO_USERS.map(({ password, ...user }) => {
    const salt = randomBytes(16);
    return { ...user, salt, hash: hashPassword(password, salt) };
  });
  return {
    login(email: unknown, password: unknown): User | null {
      const user = users.find((u) => u.email === email);
      if (!user || typeof password !== 'string') return null;
      return timingSafeEqual(hashPassword(password, user.salt), user.hash) ? user : null;
    },
    byId: (id: number) => users.find((u) => u.id === id) ?? null,
  };
}

/** `<user id>.<HMAC of it>`: the session cookie the app sets at login and reads back on every request. */
function sessions(secret: string) {
  const mac = (id: string) => createHmac('sha256', secret).update(id).digest('base64url');
  return {
    cookieFor: (user: User) => `${user.id}.${mac(String(user.id))}`,
    userIdOf(cookieHeader: string | undefined): number | null {
      const value = new RegExp(`(?:^|;\\s*)${SESSION_COOKIE}=([^;]+)`).exec(cookieHeader ?? '')?.[1];
      const [id, signature] = value?.split('.') ?? [];
      if (!id || !signature) return null;
      const expected = Buffer.from(mac(id));
      const given = Buffer.from(signature);
      return given.length === expected.length && timingSafeEqual(given, expected) ? Number(id) : null;
    },
  };
}

type AppRequest = express.Request & { user?: User | null };

export async function startExample(options: ExampleOptions): Promise<{ server: Server; close(): Promise<void> }> {
  const origin = options.origin ?? `http://localhost:${options.port}`;
  const users = userStore();
  const session = sessions(options.sessionSecret ?? randomBytes(32).toString('hex'));
  const app = express();

  // the app's own auth: every request learns its user from the session cookie
  app.use((req: AppRequest, _res, next) => {
    const id = session.userIdOf(req.get('cookie'));
    req.user = id === null ? null : users.byId(id);
    next();
  });

  // Chute before any body parser: it reads its own bodies, streamed
  const chute = createChuteHandler<AppRequest>({
    database: options.database,
    storage: options.storage,
    publicUrl: `${origin}/uploads`,
    authenticate: async (req) => (req.user ? { id: req.user.id } : null),
  });
  app.use('/uploads', chute);

  app.post('/login', express.json(), (req: AppRequest, res) => {
    const user = users.login(req.body?.email, req.body?.password);
    if (!user) return void res.status(401).json({ error: 'Wrong email or password.' });
    res.cookie(SESSION_COOKIE, session.cookieFor(user), { httpOnly: true, sameSite: 'lax', path: '/' });
    res.json({ id: user.id, name: user.name });
  });
  app.post('/logout', (_req, res) => void res.clearCookie(SESSION_COOKIE, { path: '/' }).status(204).end());
  app.get('/me', (req: AppRequest, res) => {
    if (!req.user) return void res.status(401).json({ error: 'Not logged in.' });
    res.json({ id: req.user.id, name: req.user.name });
  });
  // the page and @chute/client's ESM build, as they are on disk
  app.use('/chute-client', express.static(fileURLToPath(import.meta.resolve('@chute/client').replace(/[^/]+$/, ''))));
  app.use(express.static(fileURLToPath(new URL('public', import.meta.url))));

  const server = app.listen(options.port);
  await once(server, 'listening');
  return {
    server,
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await chute.close();
    },
  };
}
