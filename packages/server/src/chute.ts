// createChute(options) -> { plugin, handler, fetchHandler, close }: one upload core, mounted three
// ways. Each entry point serves the same file API (src/http/file-api.ts) through Fastify's own
// routing; only who `authenticate` is handed differs.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import AjvCompiler from '@fastify/ajv-compiler';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyRequest,
} from 'fastify';
import { inject } from 'light-my-request';
import { MAX_PARAM_LENGTH, registerFileApi, STRICT_AJV } from '../../../src/http/file-api.js';
import { hostFiles, type HostFiles } from '../../../src/core/files/host-api.js';
import { requireUser } from '../../../src/http/plugins/auth.js';
import { hookLogger, hostAuthenticator, openCore, type Core } from './core.js';
import {
  resolveOptions,
  type ChuteLogger,
  type ChuteOptions,
  type ChuteUser,
  type HostRequest,
  type ResolvedOptions,
} from './options.js';

export type NodeHandler<Req extends IncomingMessage = IncomingMessage> = (
  req: Req,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

export type FetchHandler = (request: Request) => Promise<Response>;

export interface Chute<Req = HostRequest> {
  /** a Fastify plugin: `app.register(chute.plugin, { prefix: '/uploads' })` */
  plugin: FastifyPluginAsync;
  /** `(req, res, next?)` for node:http, Express 5 and Connect; other paths go to `next` */
  handler: NodeHandler<Req & IncomingMessage>;
  /** `(request) => Response`, mounted at publicUrl's path */
  fetchHandler: FetchHandler;
  /** the host's own code: put/get/list/url/delete, no HTTP and no authenticate (the host is trusted) */
  files: HostFiles;
  /** closes the database Chute opened (not a Kysely the host passed) and the inner server */
  close(): Promise<void>;
}

/** The paths of the file API; anything else under a mount point is the host's (next()). */
const CHUTE_PATH = /^\/(api\/(files|uppy)|media)(\/|\?|$)/;

const notFoundBody = (method: string, path: string) => ({
  code: 'not_found',
  message: `No route for ${method} ${path}.`,
});

/** Registers the file API into `app` for a request whose host-side request is `hostRequestOf(request)`. */
async function mountFileApi<Req>(
  app: FastifyInstance,
  files: Core['files'],
  options: ResolvedOptions<Req>,
  hostRequestOf: (request: FastifyRequest) => Req,
): Promise<void> {
  const authenticator = hostAuthenticator(options.authenticate, hostRequestOf);
  // the page the host serves is same-origin (checked by Host); publicUrl's origin is trusted too
  const trustedOrigins = new Set([new URL(options.publicUrl).origin]);
  await registerFileApi(app, {
    files,
    requireUser: requireUser({ authenticator, trustedOrigins }),
    publicUrl: options.publicUrl,
  });
}

/** Creates a Chute over one database and storage; nothing opens until first use. */
export function createChute<Req = HostRequest, User extends ChuteUser = ChuteUser>(
  options: ChuteOptions<Req, User>,
): Chute<Req> {
  const resolved = resolveOptions(options);
  let core: Promise<Core> | undefined;
  const coreReady = () => (core ??= openCore(resolved as ResolvedOptions<unknown>));
  // webhooks are sent from the outbox whether or not a request comes: the core opens now
  if (resolved.webhooks)
    coreReady().catch((error: unknown) =>
      (resolved.logger ?? console).error({ err: error }, '@chute/server: could not open; no webhooks are sent'),
    );
  let inner: Promise<FastifyInstance> | undefined;
  /** the fetch Request behind each request the fetch handler routes */
  const fetchRequests = new WeakMap<IncomingMessage, Request>();
  const innerReady = () =>
    (inner ??= coreReady().then((c) =>
      innerApp(c, resolved, (request) => (fetchRequests.get(request.raw) ?? request.raw) as Req),
    ));

  const plugin: FastifyPluginAsync = async (app) => {
    const { files } = await coreReady();
    const config = app.initialConfig as { routerOptions?: { maxParamLength?: number }; maxParamLength?: number };
    const paramLength = config.routerOptions?.maxParamLength ?? config.maxParamLength ?? 100;
    if (paramLength < MAX_PARAM_LENGTH) {
      // the host's router decides; S3's multipart upload ids in Uppy's paths can be longer than that
      app.log.warn(
        `@chute/server: routerOptions.maxParamLength is ${paramLength}; Uppy's multipart routes need ${MAX_PARAM_LENGTH}`,
      );
    }
    // Chute's validation settings inside the host's Fastify, whatever the host's own are
    app.setValidatorCompiler(AjvCompiler()({}, { customOptions: STRICT_AJV }));
    // a failing hook is told to the `logger` option, else to the host's own app.log
    await mountFileApi(app, { ...files, log: files.log ?? hookLogger(app.log) }, resolved, (request) => request as Req);
  };

  const handler: NodeHandler<Req & IncomingMessage> = (req, res, next) => {
    if (next && !CHUTE_PATH.test(req.url ?? '')) return next();
    innerReady().then(
      (app) => app.routing(req, res),
      (error) => (next ? next(error) : failed(res, error, resolved.logger)),
    );
  };

  const fetchHandler: FetchHandler = async (request) => {
    const url = new URL(request.url);
    const path = url.pathname.startsWith(`${resolved.mountPath}/`)
      ? url.pathname.slice(resolved.mountPath.length)
      : null;
    if (path === null) return Response.json(notFoundBody(request.method, url.pathname), { status: 404 });
    const app = await innerReady();
    const response = await inject(
      (req, res) => {
        fetchRequests.set(req, request);
        app.routing(req, res);
      },
      {
        method: request.method as 'GET',
        url: path + url.search,
        headers: Object.fromEntries(request.headers),
        // streamed both ways: an upload's bytes are never held whole
        ...(request.body && { payload: Readable.fromWeb(request.body as import('node:stream/web').ReadableStream) }),
        payloadAsStream: true,
      },
    );
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [String(value)]) headers.append(name, one);
    }
    const empty = request.method === 'HEAD' || [204, 304].includes(response.statusCode);
    const body = empty ? null : (Readable.toWeb(response.stream()) as ReadableStream);
    return new Response(body, { status: response.statusCode, headers });
  };

  const close = async () => {
    if (inner) await (await inner.catch(() => undefined))?.close();
    if (core) await (await core.catch(() => undefined))?.close();
  };
  const api = () => coreReady().then((c) => hostFiles(c.files));
  const files: HostFiles = {
    put: async (upload) => (await api()).put(upload),
    get: async (id) => (await api()).get(id),
    list: async (query) => (await api()).list(query),
    url: async (id, options) => (await api()).url(id, options),
    delete: async (id) => (await api()).delete(id),
  };
  return { plugin, handler, fetchHandler, files, close };
}

const quiet = () => undefined;

/**
 * What the inner Fastify logs through: Chute's failures (500s, storage or database down) at warn
 * and above, to the host's `logger`, else to the console, where a host without one still sees them.
 */
function innerLogger(logger: ChuteLogger = console): FastifyBaseLogger {
  const error = logger.error.bind(logger);
  const instance = {
    level: 'warn',
    fatal: error,
    error,
    warn: logger.warn.bind(logger),
    info: quiet,
    debug: quiet,
    trace: quiet,
    silent: quiet,
    child: () => instance,
  };
  return instance as unknown as FastifyBaseLogger;
}

/** The Fastify instance the node and fetch handlers route through: Chute's own settings, never listening. */
async function innerApp<Req>(
  core: Core,
  options: ResolvedOptions<Req>,
  hostRequestOf: (request: FastifyRequest) => Req,
): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: innerLogger(options.logger),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH },
    ajv: { customOptions: STRICT_AJV },
    bodyLimit: 1024 * 1024,
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(notFoundBody(request.method, request.url.split('?')[0]!)),
  );
  await mountFileApi(app, core.files, options, hostRequestOf);
  await app.ready();
  return app;
}

/** Chute could not start (database or storage) and the host gave no `next` to report it to. */
function failed(res: ServerResponse, error: unknown, logger: ChuteLogger = console): void {
  logger.error({ err: error }, '@chute/server could not start');
  if (res.headersSent) return void res.destroy();
  res.writeHead(503, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ code: 'service_unavailable', message: 'The upload service could not start.' }));
}
