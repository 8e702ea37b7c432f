import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { Type } from 'typebox';
import type { FilesContext } from '../../core/files/services.js';
import { MULTIPART } from '../../core/storage/types.js';
import {
  uppyAbort,
  uppyComplete,
  uppyListParts,
  uppyMultipartCreate,
  uppyPutCreate,
  uppySignParts,
} from '../../core/multipart/uppy.js';
import { actorOf } from '../plugins/auth.js';
import { startRateLimitConfig } from '../plugins/rate-limit.js';
import { errorResponses, startErrorResponses } from '../schemas/common.js';

export interface UppyRoutesOptions {
  files: FilesContext;
  /** where the app is served (APP_DOMAIN): a completed upload's location is a file URL there */
  appDomain: string;
  requireUser: onRequestHookHandler;
  /** START_RATE_LIMIT: creating an upload here counts against the same budget as a direct start */
  startRateLimit?: { max: number; timeWindow: number };
}

// Uppy sends metadata[...] and other keys of its own: accepted and ignored.
const KeyQuery = Type.Object({ key: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: true });
const UploadIdParams = Type.Object({ uploadId: Type.String({ minLength: 1, maxLength: 1024 }) });
const CreateBody = Type.Object(
  {
    filename: Type.String({ minLength: 1, maxLength: 255 }),
    type: Type.Optional(Type.String({ maxLength: 255 })),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

/**
 * The routes of a Companion server's S3 API, as @uppy/aws-s3 5.x calls them (`endpoint` =
 * <APP_DOMAIN>/api/uppy). Each upload becomes an ordinary Chute file record.
 */
const uppyRoutes: FastifyPluginAsyncTypebox<UppyRoutesOptions> = async (
  app,
  { files, appDomain, requireUser, startRateLimit },
) => {
  app.addHook('onRequest', requireUser);
  const tags = ['uppy'];
  /** Uppy's (uploadId, key) pair of a request, and who asks. */
  const uploadOf = (request: FastifyRequest & { params: { uploadId: string }; query: { key: string } }) => ({
    actor: actorOf(request),
    uploadId: request.params.uploadId,
    key: request.query.key,
  });

  app.get(
    '/api/uppy/s3/params',
    {
      schema: {
        tags,
        summary: 'A single signed PUT for a small file (Uppy getUploadParameters)',
        querystring: Type.Object(
          {
            filename: Type.String({ minLength: 1, maxLength: 255 }),
            type: Type.Optional(Type.String({ maxLength: 255 })),
          },
          { additionalProperties: true },
        ),
        response: {
          200: Type.Object({
            method: Type.String(),
            url: Type.String(),
            fields: Type.Record(Type.String(), Type.String()),
            headers: Type.Record(Type.String(), Type.String()),
            expires: Type.Integer(),
          }),
          ...startErrorResponses(400, 401, 403, 413, 415, 429),
        },
      },
      // Uppy's protocol makes this a GET, yet it creates a record: a link on another site must not
      config: { ...startRateLimitConfig(startRateLimit).config, getWrites: true },
    },
    async (request) => {
      const { upload, expires } = await uppyPutCreate(files, {
        actor: actorOf(request),
        fileName: request.query.filename,
        type: request.query.type,
        size: (request.query as Record<string, unknown>)['metadata[size]'],
      });
      return { method: upload.method, url: upload.url, fields: {}, headers: upload.headers, expires };
    },
  );

  app.post(
    '/api/uppy/s3/multipart',
    {
      schema: {
        tags,
        summary: 'Create a multipart upload (Uppy createMultipartUpload)',
        body: CreateBody,
        response: {
          200: Type.Object({ key: Type.String(), uploadId: Type.String() }),
          ...startErrorResponses(400, 401, 413, 415, 429, 503),
        },
      },
      ...startRateLimitConfig(startRateLimit),
    },
    async (request) => {
      return uppyMultipartCreate(files, {
        actor: actorOf(request),
        fileName: request.body.filename,
        type: request.body.type,
        size: request.body.metadata?.size,
      });
    },
  );

  app.get(
    '/api/uppy/s3/multipart/:uploadId/batch',
    {
      schema: {
        tags,
        summary: 'Sign several parts (Uppy signPart, batched)',
        params: UploadIdParams,
        querystring: Type.Object(
          {
            key: Type.String({ minLength: 1 }),
            partNumbers: Type.String({ pattern: '^[0-9]{1,5}(,[0-9]{1,5}){0,99}$' }),
          },
          { additionalProperties: true },
        ),
        response: {
          200: Type.Object({ presignedUrls: Type.Record(Type.String(), Type.String()) }),
          ...errorResponses(400, 401, 404, 409),
        },
      },
    },
    async (request) => {
      const { urls } = await uppySignParts(files, {
        ...uploadOf(request),
        partNumbers: request.query.partNumbers.split(',').map(Number),
      });
      return { presignedUrls: Object.fromEntries(urls.map((part) => [String(part.partNumber), part.url])) };
    },
  );

  app.get(
    '/api/uppy/s3/multipart/:uploadId/:partNumber',
    {
      schema: {
        tags,
        summary: 'Sign one part (Uppy signPart)',
        params: Type.Object({ ...UploadIdParams.properties, partNumber: Type.String({ pattern: '^[0-9]{1,5}$' }) }),
        querystring: KeyQuery,
        response: {
          200: Type.Object({ url: Type.String(), expires: Type.Integer() }),
          ...errorResponses(400, 401, 404, 409),
        },
      },
    },
    async (request) => {
      const { urls, expires } = await uppySignParts(files, {
        ...uploadOf(request),
        partNumbers: [Number(request.params.partNumber)],
      });
      return { url: urls[0]!.url, expires };
    },
  );

  app.get(
    '/api/uppy/s3/multipart/:uploadId',
    {
      schema: {
        tags,
        summary: 'The parts received so far (Uppy listParts, used on resume)',
        params: UploadIdParams,
        querystring: KeyQuery,
        response: {
          200: Type.Array(Type.Object({ PartNumber: Type.Integer(), Size: Type.Integer(), ETag: Type.String() })),
          ...errorResponses(400, 401, 404, 409),
        },
      },
    },
    async (request) => {
      const parts = await uppyListParts(files, uploadOf(request));
      return parts.map((part) => ({ PartNumber: part.partNumber, Size: part.size, ETag: part.etag }));
    },
  );

  app.post(
    '/api/uppy/s3/multipart/:uploadId/complete',
    {
      schema: {
        tags,
        summary: 'Complete and verify (Uppy completeMultipartUpload); the file becomes valid',
        params: UploadIdParams,
        querystring: KeyQuery,
        body: Type.Object(
          {
            parts: Type.Array(
              Type.Object(
                {
                  PartNumber: Type.Integer({ minimum: 1, maximum: MULTIPART.maxParts }),
                  ETag: Type.String({ minLength: 1 }),
                },
                { additionalProperties: true },
              ),
              { minItems: 1, maxItems: MULTIPART.maxParts },
            ),
          },
          { additionalProperties: true },
        ),
        response: { 200: Type.Object({ location: Type.String() }), ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => {
      const parts = request.body.parts.map((part) => ({ partNumber: part.PartNumber, etag: part.ETag }));
      const done = await uppyComplete(files, { ...uploadOf(request), parts });
      return { location: `${appDomain}/api/files/${done.id}/` };
    },
  );

  app.delete(
    '/api/uppy/s3/multipart/:uploadId',
    {
      schema: {
        tags,
        summary: 'Abort (Uppy abortMultipartUpload): parts and record are dropped',
        params: UploadIdParams,
        querystring: KeyQuery,
        response: { 200: Type.Object({}), ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => {
      await uppyAbort(files, uploadOf(request));
      return {};
    },
  );
};

export default uppyRoutes;
