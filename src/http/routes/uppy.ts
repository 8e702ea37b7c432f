import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { Type } from 'typebox';
import { getAccessibleFile, type FilesContext } from '../../core/files/services.js';
import { findFileByUploadId } from '../../core/multipart/repository.js';
import {
  multipartAbort,
  multipartComplete,
  multipartCreate,
  multipartListParts,
  multipartSignParts,
  singlePutCreate,
} from '../../core/multipart/services.js';
import { MULTIPART } from '../../core/storage/types.js';
import { notFound } from '../../errors.js';
import { actorOf } from '../plugins/auth.js';
import { startRateLimitConfig } from '../plugins/rate-limit.js';
import { errorResponses } from '../schemas/common.js';

export interface UppyRoutesOptions {
  files: FilesContext;
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

/** Uppy's single PUTs go up to 100 MiB: 10 minutes allows ~170 KB/s. */
export const UPPY_MIN_EXPIRY_SECONDS = 600;

/**
 * How @uppy/aws-s3 5.x cuts a file (its default getChunkSize): 5 MiB parts, larger past 10,000 of
 * them. Where the size is known, each part's URL is signed for exactly its share.
 */
const uppyPartSize = (fileSize: number) => Math.max(MULTIPART.minPartSize, Math.ceil(fileSize / MULTIPART.maxParts));

const typeOrDefault = (type: string | undefined) => (type && type.trim() ? type : 'application/octet-stream');

/** A size Uppy put in the metadata, if any; else the completed upload's size is checked against the limit only. */
function sizeFrom(metadata: Record<string, unknown> | undefined): number | null {
  const size = Number(metadata?.size);
  return Number.isSafeInteger(size) && size > 0 ? size : null;
}

/**
 * The routes of a Companion server's S3 API, as @uppy/aws-s3 5.x calls them (`endpoint` =
 * <APP_DOMAIN>/api/uppy). Each upload becomes an ordinary Chute file record.
 */
const uppyRoutes: FastifyPluginAsyncTypebox<UppyRoutesOptions> = async (app, { files, requireUser, startRateLimit }) => {
  app.addHook('onRequest', requireUser);
  const tags = ['uppy'];
  // @uppy/aws-s3 5.x turns `expires` into the upload request's timeout (xhr.timeout): with the
  // usual short expiry a 100 MiB single PUT on a slow link would be cut, so Uppy's URLs live longer.
  const uppyExpiry = Math.max(files.policy.presignedExpiry, UPPY_MIN_EXPIRY_SECONDS);

  /** The caller's open upload behind Uppy's (uploadId, key) pair. */
  async function uploadOf(request: FastifyRequest, uploadId: string, key: string) {
    const file = await findFileByUploadId(files.db, uploadId);
    if (!file || file.file !== key) throw notFound('upload');
    return getAccessibleFile(files, { actor: actorOf(request), fileId: file.id });
  }

  app.get('/api/uppy/s3/params', {
    schema: {
      tags, summary: 'A single signed PUT for a small file (Uppy getUploadParameters)',
      querystring: Type.Object({ filename: Type.String({ minLength: 1, maxLength: 255 }), type: Type.Optional(Type.String({ maxLength: 255 })) }, { additionalProperties: true }),
      response: { 200: Type.Object({ method: Type.String(), url: Type.String(), fields: Type.Record(Type.String(), Type.String()), headers: Type.Record(Type.String(), Type.String()), expires: Type.Integer() }), ...errorResponses(400, 401, 403, 413, 415, 429) },
    },
    // Uppy's protocol makes this a GET, yet it creates a record: a link on another site must not
    config: { ...startRateLimitConfig(startRateLimit).config, getWrites: true },
  }, async (request) => {
    const size = Number((request.query as Record<string, unknown>)['metadata[size]']);
    const { upload } = await singlePutCreate(files, {
      actor: actorOf(request),
      fileName: request.query.filename,
      fileType: typeOrDefault(request.query.type),
      fileSize: Number.isSafeInteger(size) && size > 0 ? size : null,
      expiresIn: uppyExpiry,
    });
    return { method: upload.method, url: upload.url, fields: {}, headers: upload.headers, expires: uppyExpiry };
  });

  app.post('/api/uppy/s3/multipart', {
    schema: {
      tags, summary: 'Create a multipart upload (Uppy createMultipartUpload)',
      body: CreateBody,
      response: { 200: Type.Object({ key: Type.String(), uploadId: Type.String() }), ...errorResponses(400, 401, 413, 415, 429, 503) },
    },
    ...startRateLimitConfig(startRateLimit),
  }, async (request) => {
    const { file, uploadId } = await multipartCreate(files, {
      actor: actorOf(request),
      fileName: request.body.filename,
      fileType: typeOrDefault(request.body.type),
      fileSize: sizeFrom(request.body.metadata),
    });
    return { key: file.file, uploadId };
  });

  app.get('/api/uppy/s3/multipart/:uploadId/batch', {
    schema: {
      tags, summary: 'Sign several parts (Uppy signPart, batched)',
      params: UploadIdParams,
      querystring: Type.Object({ key: Type.String({ minLength: 1 }), partNumbers: Type.String({ pattern: '^[0-9]{1,5}(,[0-9]{1,5}){0,99}$' }) }, { additionalProperties: true }),
      response: { 200: Type.Object({ presignedUrls: Type.Record(Type.String(), Type.String()) }), ...errorResponses(400, 401, 404, 409) },
    },
  }, async (request) => {
    const file = await uploadOf(request, request.params.uploadId, request.query.key);
    const signed = await multipartSignParts(files, {
      actor: actorOf(request),
      fileId: file.id,
      parts: request.query.partNumbers.split(',').map((n) => ({ partNumber: Number(n) })),
      expiresIn: uppyExpiry,
      partSizeOf: uppyPartSize,
    });
    return { presignedUrls: Object.fromEntries(signed.map((part) => [String(part.partNumber), part.url])) };
  });

  app.get('/api/uppy/s3/multipart/:uploadId/:partNumber', {
    schema: {
      tags, summary: 'Sign one part (Uppy signPart)',
      params: Type.Object({ ...UploadIdParams.properties, partNumber: Type.String({ pattern: '^[0-9]{1,5}$' }) }),
      querystring: KeyQuery,
      response: { 200: Type.Object({ url: Type.String(), expires: Type.Integer() }), ...errorResponses(400, 401, 404, 409) },
    },
  }, async (request) => {
    const file = await uploadOf(request, request.params.uploadId, request.query.key);
    const [part] = await multipartSignParts(files, {
      actor: actorOf(request),
      fileId: file.id,
      parts: [{ partNumber: Number(request.params.partNumber) }],
      expiresIn: uppyExpiry,
      partSizeOf: uppyPartSize,
    });
    return { url: part!.url, expires: uppyExpiry };
  });

  app.get('/api/uppy/s3/multipart/:uploadId', {
    schema: {
      tags, summary: 'The parts received so far (Uppy listParts, used on resume)',
      params: UploadIdParams, querystring: KeyQuery,
      response: { 200: Type.Array(Type.Object({ PartNumber: Type.Integer(), Size: Type.Integer(), ETag: Type.String() })), ...errorResponses(400, 401, 404, 409) },
    },
  }, async (request) => {
    const file = await uploadOf(request, request.params.uploadId, request.query.key);
    const parts = await multipartListParts(files, { actor: actorOf(request), fileId: file.id });
    return parts.map((part) => ({ PartNumber: part.partNumber, Size: part.size, ETag: part.etag }));
  });

  app.post('/api/uppy/s3/multipart/:uploadId/complete', {
    schema: {
      tags, summary: 'Complete and verify (Uppy completeMultipartUpload); the file becomes valid',
      params: UploadIdParams, querystring: KeyQuery,
      body: Type.Object({ parts: Type.Array(Type.Object({ PartNumber: Type.Integer({ minimum: 1, maximum: MULTIPART.maxParts }), ETag: Type.String({ minLength: 1 }) }, { additionalProperties: true }), { minItems: 1, maxItems: MULTIPART.maxParts }) }, { additionalProperties: true }),
      response: { 200: Type.Object({ location: Type.String() }), ...errorResponses(400, 401, 404, 409, 503) },
    },
  }, async (request) => {
    const file = await uploadOf(request, request.params.uploadId, request.query.key);
    const parts = [...request.body.parts].sort((a, b) => a.PartNumber - b.PartNumber).map((part) => ({ partNumber: part.PartNumber, etag: part.ETag }));
    const done = await multipartComplete(files, { actor: actorOf(request), fileId: file.id, parts });
    return { location: `${app.chute.config.appDomain}/api/files/${done.id}/` };
  });

  app.delete('/api/uppy/s3/multipart/:uploadId', {
    schema: {
      tags, summary: 'Abort (Uppy abortMultipartUpload): parts and record are dropped',
      params: UploadIdParams, querystring: KeyQuery,
      response: { 200: Type.Object({}), ...errorResponses(400, 401, 404, 409, 503) },
    },
  }, async (request) => {
    const file = await uploadOf(request, request.params.uploadId, request.query.key);
    await multipartAbort(files, { actor: actorOf(request), fileId: file.id });
    return {};
  });
};

export default uppyRoutes;
