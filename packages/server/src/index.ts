// @chute/server: Chute's file API inside an existing app, with the app's own users.
import type { IncomingMessage } from 'node:http';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { createChute, type FetchHandler, type NodeHandler } from './chute.js';
import type { ChuteOptions, ChuteUser } from './options.js';

export { createChute, type Chute, type FetchHandler, type NodeHandler } from './chute.js';
export { migrate } from './core.js';
export { prepareNamedStatements as prepareChuteStatements } from '../../../src/db/pg-prepared.js';
export { UploadRefusedError } from '../../../src/errors.js';
export type { HostFiles as ChuteFiles } from '../../../src/core/files/host-api.js';
export type { WebhookSettings as ChuteWebhooks } from '../../../src/core/events/settings.js';
export type { WebhookEvent as ChuteWebhookEvent } from '../../../src/core/events/outbox.js';
export {
  ChuteOptionsError,
  type ChuteFileJson,
  type ChuteHooks,
  type ChuteLimits,
  type ChuteLogger,
  type ChuteOptions,
  type ChuteStorageOptions,
  type ChuteUploadStartEvent,
  type ChuteUser,
} from './options.js';

/** Fastify's own register options, which are not Chute's. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'];

/** `app.register(chutePlugin, { prefix: '/uploads', ...options })`; closed with the host app. */
export const chutePlugin: FastifyPluginAsync<ChuteOptions<FastifyRequest>> = async (app, registerOptions) => {
  const options = Object.fromEntries(
    Object.entries(registerOptions).filter(([key]) => !REGISTER_OPTIONS.includes(key)),
  );
  const chute = createChute(options as unknown as ChuteOptions<FastifyRequest>);
  app.addHook('onClose', () => chute.close());
  await app.register(chute.plugin);
};

/** A shortcut's handler carries its Chute's close() (the database Chute opened; tests, graceful shutdown). */
type Closable<Handler> = Handler & { close(): Promise<void> };

/** `app.use('/uploads', createChuteHandler(options))` (Express 5, Connect) or `(req, res) => handler(req, res)` (node:http). */
export function createChuteHandler<Req extends IncomingMessage = IncomingMessage, User extends ChuteUser = ChuteUser>(
  options: ChuteOptions<Req, User>,
): Closable<NodeHandler<Req>> {
  const chute = createChute(options);
  return Object.assign(chute.handler, { close: chute.close });
}

/** `(request: Request) => Promise<Response>` for Next.js route handlers, Hono, Bun, Deno; mounted at publicUrl's path. */
export function createChuteFetchHandler<User extends ChuteUser = ChuteUser>(
  options: ChuteOptions<Request, User>,
): Closable<FetchHandler> {
  const chute = createChute(options);
  return Object.assign(chute.fetchHandler, { close: chute.close });
}
