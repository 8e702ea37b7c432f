import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from '../config.js';
import { type UploadHooks, writeOwedEvents } from '../core/files/hooks.js';
import type { FilesContext } from '../core/files/services.js';
import { startWebhookDelivery, type WebhookDelivery } from '../core/events/delivery.js';
import type { EventOutbox } from '../core/events/outbox.js';
import type { WebhookSettings } from '../core/events/settings.js';
import { getOrCreateSigningSecret } from '../core/secrets.js';
import { createUrlSigner } from '../core/signing.js';
import { createStorage, LocalStorage, type StorageBackend } from '../core/storage/index.js';
import { type Db, openDatabase } from '../db/index.js';
import { migrateToLatest } from '../db/migrate.js';
import { startCleanupSchedule } from '../ops/cleanup.js';
import { uploadPolicyOf } from '../ops/context.js';
import { userUploaders } from '../users/uploaders.js';
import { MAX_PARAM_LENGTH, registerFileApi, STRICT_AJV } from './file-api.js';
import apiDocs from './plugins/api-docs.js';
import { requireUser, type Authenticator } from './plugins/auth.js';
import errors, { clientErrorHandler } from './plugins/errors.js';
import idleTimeout from './plugins/idle-timeout.js';
import { databaseRateLimitStore } from './plugins/rate-limit.js';
import refusedBodies from './plugins/refused-bodies.js';
import requestLog from './plugins/request-log.js';
import securityHeaders from './plugins/security-headers.js';
import { jwtAuthenticator } from './plugins/jwt-auth.js';
import { sessionAuthenticator } from './plugins/session-auth.js';
import adminRoutes from './routes/admin.js';
import authRoutes from './routes/auth.js';
import healthRoutes from './routes/health.js';
import { UserOut } from './schemas/auth.js';

const WEB_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface Chute {
  config: Config;
  db: Db;
  storage: StorageBackend;
  files: FilesContext;
}

declare module 'fastify' {
  interface FastifyInstance {
    chute: Chute;
  }
}

export interface BuildAppOptions {
  config: Config;
  logger?: FastifyServerOptions['logger'];
  /** replaces Chute's own session users, e.g. with a host app's auth */
  authenticator?: Authenticator;
  /** the upload hooks (src/core/files/hooks.ts); a failing one is logged by the app's logger */
  hooks?: UploadHooks;
}

/** The standalone server: the upload core, Chute's users and sessions, the API and the web app. */
export async function buildApp({
  config,
  logger = false,
  authenticator,
  hooks,
}: BuildAppOptions): Promise<FastifyInstance> {
  const db = openDatabase(config);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const secret = config.secretKey ?? (await getOrCreateSigningSecret(db));
  const storage = createStorage(config, createUrlSigner(secret));
  if (storage instanceof LocalStorage) await storage.removeStaleTempFiles();
  const app = Fastify({
    logger,
    // one line per request instead, from the request-log plugin: route pattern, user, status, time
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    ajv: { customOptions: STRICT_AJV },
    bodyLimit: 1024 * 1024,
    forceCloseConnections: 'idle',
    // no request-wide limit (a 1 GiB upload on a slow link takes what it takes): a connection is
    // closed after idleSeconds without a byte while the client sends or reads (not while Chute
    // works: plugins/idle-timeout), and the headers must arrive within headersSeconds
    connectionTimeout: config.httpTimeouts.idleSeconds * 1000,
    requestTimeout: 0,
    http: {
      headersTimeout: config.httpTimeouts.headersSeconds * 1000,
      // how often node looks for late headers (its default, 30 s, would make a 1 s limit 30 s)
      connectionsCheckingInterval: Math.min(config.httpTimeouts.headersSeconds * 1000, 5000) / 2,
    },
    clientErrorHandler,
    // the server's own id always; a client's X-Request-Id is logged beside it (request-log)
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<TypeBoxTypeProvider>();
  // the loop writes the events files owe (files is complete before the app is ready)
  const webhooks =
    config.webhooks && webhookOutbox(app, db, config.webhooks, (limit) => writeOwedEvents(files, { limit }));
  const files: FilesContext = {
    db,
    storage,
    policy: uploadPolicyOf(config),
    log: app.log,
    ...(hooks && { hooks }),
    ...(webhooks && { events: webhooks }),
  };
  app.decorate('chute', { config, db, storage, files });
  const rateLimits = databaseRateLimitStore(db);
  app.addHook('onClose', async () => {
    await rateLimits.settled();
    await db.destroy();
  });

  await app.register(errors); // first: the routes of every plugin below are built with its handler
  await app.register(requestLog);
  await app.register(securityHeaders, { staticUrl: config.staticFiles.url });
  await app.register(refusedBodies);
  await app.register(idleTimeout, { idleMs: config.httpTimeouts.idleSeconds * 1000 });
  await app.register(apiDocs, { config });
  await app.register(cookie);
  const trustedOrigins = new Set([new URL(config.appDomain).origin, ...config.corsAllowedOrigins]);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && trustedOrigins.has(origin)),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'Location', 'X-Request-Id'],
    maxAge: 600,
  });
  // counters in the database: every process on it shares the same budgets
  await app.register(rateLimit, { global: false, store: rateLimits.Store });
  // before the file API, which adds sendFile only when missing
  await registerWebApp(app, config);

  const sessions = sessionAuthenticator(db);
  const requireUserHook = requireUser({
    authenticator: authenticator ?? (config.jwt ? jwtAuthenticator(config.jwt, sessions) : sessions),
    trustedOrigins,
  });
  const startRateLimit = { max: config.startRateLimit.perUser, timeWindow: config.startRateLimit.windowMs };
  await registerFileApi(app, { files, requireUser: requireUserHook, publicUrl: config.appDomain, startRateLimit });
  app.addSchema(UserOut);
  await app.register(authRoutes, {
    db,
    loginRateLimit: config.loginRateLimit,
    sessionTtlSeconds: config.sessionTtlSeconds,
    secureCookie: config.appDomain.startsWith('https:'),
    requireUser: requireUserHook,
  });
  await app.register(healthRoutes, { db, storage });
  await app.register(adminRoutes, {
    files: { ...files, uploaders: userUploaders(db) },
    userDb: db,
    adminMaxSize: config.fileAdminMaxSize,
    requireUser: requireUserHook,
  });

  const { intervalSeconds, olderThanSeconds } = config.cleanup;
  if (intervalSeconds !== null) {
    // started once listening (or ready), stopped before the database closes
    let schedule: ReturnType<typeof startCleanupSchedule> | undefined;
    app.addHook('onReady', async () => {
      schedule = startCleanupSchedule(files, { intervalSeconds, olderThanSeconds, log: app.log });
    });
    app.addHook('preClose', async () => schedule?.stop());
  }
  return app;
}

/**
 * The outbox events go to, and this process's delivery loop: started once the app is ready (or
 * listening), stopped before the database closes; a send cut short is handed back to the outbox.
 */
export function webhookOutbox(
  app: FastifyInstance,
  db: Db,
  { urls, secret }: WebhookSettings,
  collect: (limit: number) => Promise<number>,
): EventOutbox {
  let delivery: WebhookDelivery | undefined;
  app.addHook('onReady', async () => {
    delivery = startWebhookDelivery({ db, secret, log: app.log, collect });
  });
  app.addHook('preClose', async () => delivery?.stop());
  return { urls, wake: () => delivery?.wake() };
}

/**
 * The web app's index.html with its script and style tags pointing at STATIC_URL, read once at boot
 * (the assets Chute serves too stay as a fallback); the app's own code then loads from beside them.
 */
function pageWithStaticUrl(staticUrl: string): string {
  const html = readFileSync(`${WEB_ROOT}index.html`, 'utf8');
  return html.replace(/(\s(?:src|href)=")\/assets\//g, `$1${staticUrl}assets/`);
}

/**
 * The React app from web/dist at `/`, with client-side routes answered by its index.html.
 * Registered in every case: it gives replies sendFile, which the media route uses too.
 */
async function registerWebApp(app: FastifyInstance, config: Config): Promise<void> {
  const built = config.serveWebApp && existsSync(`${WEB_ROOT}index.html`);
  await app.register(fastifyStatic, {
    root: built ? WEB_ROOT : process.cwd(),
    serve: built,
    prefix: '/',
    wildcard: false,
    index: false,
    setHeaders: (res, path) => {
      res.header('x-content-type-options', 'nosniff');
      if (path.includes('/assets/')) res.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  const page = built && config.staticFiles.url ? pageWithStaticUrl(config.staticFiles.url) : null;
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const wantsPage =
      request.method === 'GET' &&
      !/^\/(api|media)(\/|$)/.test(path) &&
      (request.headers.accept ?? '').includes('text/html');
    if (built && wantsPage) {
      // the page policies come from the security-headers plugin, as for every HTML response
      reply.header('cache-control', 'no-cache');
      return page ? reply.type('text/html; charset=utf-8').send(page) : reply.sendFile('index.html', WEB_ROOT);
    }
    return reply.status(404).send({ code: 'not_found', message: `No route for ${request.method} ${path}.` });
  });
}
