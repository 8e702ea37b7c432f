// The file API (direct, standard, list/get/delete, multipart, Uppy, and for local storage the
// signed PUTs and downloads) registered into a Fastify instance or encapsulated context: the one
// definition the standalone server (app.ts) and @chute/server (packages/server) both mount.
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { FilesContext } from '../core/files/services.js';
import { LocalStorage } from '../core/storage/index.js';
import errors from './plugins/errors.js';
import fileRoutes from './routes/files.js';
import mediaRoutes from './routes/media.js';
import { localPutRoutes, multipartRoutes } from './routes/multipart.js';
import uppyRoutes from './routes/uppy.js';
import { ErrorResponse } from './schemas/common.js';
import { FileOut } from './schemas/files.js';

/** Fastify's validator settings for Chute's routes: unknown keys and wrong types are errors, never dropped or coerced. */
export const STRICT_AJV = { removeAdditional: false, coerceTypes: false, allErrors: true } as const;

/** Route parameters Chute takes are long (Uppy's upload ids, storage keys): Fastify's default of 100 is too short. */
export const MAX_PARAM_LENGTH = 500;

export interface FileApiOptions {
  files: FilesContext;
  /** answers "who is asking?" (not_authenticated, csrf_failed) and sets request.actor */
  requireUser: onRequestHookHandler;
  /** absolute URL the file API is reached at (APP_DOMAIN, or @chute/server's publicUrl), no trailing slash */
  publicUrl: string;
  /** START_RATE_LIMIT; needs @fastify/rate-limit registered on the instance first */
  startRateLimit?: { max: number; timeWindow: number };
}

/**
 * Registers the error handler when the context has none of Chute's yet (first: routes are built
 * with the handler their context has when they are added), the schemas, multipart forms and the routes. Plugins a host may already have
 * (@fastify/multipart, @fastify/static for sendFile) are only added when missing.
 */
export async function registerFileApi(
  app: FastifyInstance,
  { files, requireUser, publicUrl, startRateLimit }: FileApiOptions,
): Promise<void> {
  if (!app.hasPlugin('chute-errors')) await app.register(errors);
  app.addSchema(ErrorResponse);
  app.addSchema(FileOut);
  if (!app.hasRequestDecorator('actor')) app.decorateRequest('actor', null);
  if (!app.hasRequestDecorator('actorIsExternal')) app.decorateRequest('actorIsExternal', false);
  if (!app.hasPlugin('@fastify/multipart')) {
    const { maxSize, standardMaxSize = maxSize } = files.policy;
    // each route passes its own limit (form-file.ts); this one only bounds what busboy reads
    await app.register(multipart, {
      limits: { fileSize: Math.max(maxSize, standardMaxSize) + 1, files: 1, fields: 20, parts: 30 },
    });
  }
  await app.register(fileRoutes, { files, requireUser, startRateLimit });
  await app.register(multipartRoutes, { files, requireUser, startRateLimit });
  await app.register(uppyRoutes, { files, appDomain: publicUrl, requireUser, startRateLimit });
  if (files.storage instanceof LocalStorage) {
    await app.register(localPutRoutes, { files });
    // the media route answers with reply.sendFile; the storage root is passed on each call
    if (!app.hasPlugin('@fastify/static'))
      await app.register(fastifyStatic, { root: files.storage.root, serve: false });
    await app.register(mediaRoutes, { db: files.db, storage: files.storage });
  }
}
