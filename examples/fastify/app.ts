// A Fastify app whose clients authenticate with API tokens of its own (POST /api/tokens with email
// and password gives one), and Chute's file API registered at /uploads with chutePlugin: Chute
// asks the app whose token a request carries.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { type ChuteOptions, chutePlugin } from '@chute/server';
import Fastify, { type FastifyRequest } from 'fastify';

/** The app's own users (a real app keeps them, and its tokens, in its database). */
export const DEMO_USERS = [
  { id: 1, email: 'ada@example.com', password: 'ada-password' },
  { id: 2, email: 'bob@example.com', password: 'bob-password' },
];

export interface ExampleOptions {
  port: number;
  database: string;
  storage: ChuteOptions['storage'];
  /** where clients reach the app; http://localhost:<port> by default */
  origin?: string;
}

const hash = (password: string, salt: Buffer) => scryptSync(password, salt, 32);

export async function startExample(options: ExampleOptions) {
  const origin = options.origin ?? `http://localhost:${options.port}`;
  const users = DEMO_USERS.map(({ password, ...user }) => {
    const salt = randomBytes(16);
    return { ...user, salt, hash: hash(password, salt) };
  });
  const tokens = new Map<string, number>(); // token -> user id

  // S3 multipart upload ids in Uppy's routes are longer than Fastify's default of 100
  const app = Fastify({ routerOptions: { maxParamLength: 500 } });

  app.post<{ Body: { email?: string; password?: string } }>('/api/tokens', async (request, reply) => {
    const user = users.find((u) => u.email === request.body?.email);
    const password = request.body?.password;
    if (!user || typeof password !== 'string' || !timingSafeEqual(hash(password, user.salt), user.hash)) {
      return reply.code(401).send({ error: 'Wrong email or password.' });
    }
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, user.id);
    return { token };
  });

  const userOf = (request: FastifyRequest) => {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const id = token === undefined ? undefined : tokens.get(token);
    return id === undefined ? null : { id };
  };
  await app.register(chutePlugin, {
    prefix: '/uploads',
    database: options.database,
    storage: options.storage,
    publicUrl: `${origin}/uploads`,
    authenticate: async (request) => userOf(request),
  });

  await app.listen({ port: options.port, host: '::' });
  return { app, close: () => app.close() }; // closes Chute too
}
