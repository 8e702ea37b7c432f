import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { Type } from 'typebox';
import {
  localPartReceive,
  localPutReceive,
  multipartAbort,
  multipartComplete,
  multipartCreate,
  multipartListParts,
  multipartSignParts,
} from '../../core/multipart/services.js';
import type { FilesContext } from '../../core/files/services.js';
import { actorOf, onFileNoContent } from '../plugins/auth.js';
import { startRateLimitConfig } from '../plugins/rate-limit.js';
import { Empty, errorResponses, IdParams, startErrorResponses } from '../schemas/common.js';
import { FileMadeValid } from '../schemas/files.js';
import {
  MultipartCompleteBody,
  MultipartCreateBody,
  MultipartCreated,
  MultipartSignBody,
  PartList,
  SignedParts,
  SignedQuery,
} from '../schemas/multipart.js';
import { fileJson } from '../../core/files/json.js';

export interface MultipartRoutesOptions {
  files: FilesContext;
  requireUser: onRequestHookHandler;
  /** START_RATE_LIMIT: creating an upload here counts against the same budget as a direct start */
  startRateLimit?: { max: number; timeWindow: number };
}

const serializePart = (part: { partNumber: number; size: number; etag: string }) => ({
  part_number: part.partNumber,
  size: part.size,
  etag: part.etag,
});

/** Chute's own multipart API: create, sign parts, list (resume), complete (verify), abort. */
export const multipartRoutes: FastifyPluginAsyncTypebox<MultipartRoutesOptions> = async (
  app,
  { files, requireUser, startRateLimit },
) => {
  app.addHook('onRequest', requireUser);
  const tags = ['multipart'];

  app.post(
    '/api/files/upload/multipart/',
    {
      schema: {
        tags,
        summary: 'Start a multipart upload for a large file: a pending record and an open storage upload',
        body: MultipartCreateBody,
        response: { 200: MultipartCreated, ...startErrorResponses(400, 401, 413, 415, 429, 503) },
      },
      ...startRateLimitConfig(startRateLimit),
    },
    async (request) => {
      const { file, uploadId, partSize } = await multipartCreate(files, {
        actor: actorOf(request),
        fileName: request.body.file_name,
        fileType: request.body.file_type,
        fileSize: request.body.file_size,
      });
      return { id: file.id, key: file.file, upload_id: uploadId, part_size: partSize };
    },
  );

  app.post(
    '/api/files/upload/multipart/:id/sign/',
    {
      schema: {
        tags,
        summary: 'Presign PUT URLs for a batch of parts (each signed with its Content-MD5 when given)',
        params: IdParams,
        body: MultipartSignBody,
        response: { 200: SignedParts, ...errorResponses(400, 401, 404, 409) },
      },
    },
    async (request) => {
      const signed = await multipartSignParts(files, {
        actor: actorOf(request),
        fileId: Number(request.params.id),
        parts: request.body.parts.map((part) => ({ partNumber: part.part_number, contentMd5: part.content_md5 })),
      });
      return { parts: signed.map(({ partNumber, ...rest }) => ({ part_number: partNumber, ...rest })) };
    },
  );

  app.get(
    '/api/files/upload/multipart/:id/parts/',
    {
      schema: {
        tags,
        summary: 'The parts the storage has received: what a resumed upload can skip',
        params: IdParams,
        response: { 200: PartList, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => {
      const parts = await multipartListParts(files, { actor: actorOf(request), fileId: Number(request.params.id) });
      return { parts: parts.map(serializePart) };
    },
  );

  app.post(
    '/api/files/upload/multipart/:id/complete/',
    {
      schema: {
        tags,
        summary: 'Join the parts, verify size, type and checksum, and make the file valid',
        params: IdParams,
        body: MultipartCompleteBody,
        response: FileMadeValid,
      },
    },
    async (request) => {
      const file = await multipartComplete(files, {
        actor: actorOf(request),
        fileId: Number(request.params.id),
        parts: request.body.parts.map((part) => ({ partNumber: part.part_number, etag: part.etag })),
        sha256: request.body.sha256,
      });
      return fileJson(files, file);
    },
  );

  app.delete(
    '/api/files/upload/multipart/:id/',
    {
      schema: {
        tags,
        summary: 'Abort the upload: its parts and its record are dropped',
        params: IdParams,
        response: { 204: Empty, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    onFileNoContent(files, multipartAbort),
  );
};

// a URL signed for an exact body size carries it (covered by the signature)
const SignedSizeQuery = Type.Object({
  ...SignedQuery.properties,
  size: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })),
});

/** The size the URL was signed for and the one the request declares (none when chunked). */
function signedLength(request: { query: { size?: string | undefined }; headers: FastifyRequest['headers'] }) {
  const length = request.headers['content-length'];
  return {
    size: request.query.size === undefined ? undefined : Number(request.query.size),
    declaredLength: length === undefined ? undefined : Number(length),
  };
}

/**
 * Local storage's twins of S3's presigned PUTs. The signature in the URL is the credential, so
 * these routes take no session, exactly like the storage they stand in for.
 */
export const localPutRoutes: FastifyPluginAsyncTypebox<{ files: FilesContext }> = async (app, { files }) => {
  // any body, any (or no) Content-Type: the bytes are streamed as they come
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));
  const tags = ['multipart'];

  app.put(
    '/api/files/upload/multipart/local/:uploadId/:partNumber/',
    {
      schema: {
        tags,
        summary: 'Receive one part (local storage); the URL comes from the sign endpoint',
        params: Type.Object({
          uploadId: Type.String({ pattern: '^[0-9a-f]{32}$' }),
          partNumber: Type.String({ pattern: '^[0-9]{1,5}$' }),
        }),
        querystring: SignedSizeQuery,
        response: { 200: Type.Object({ etag: Type.String() }), ...errorResponses(400, 403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const contentMd5 = request.headers['content-md5'];
      const part = await localPartReceive(files, {
        uploadId: request.params.uploadId,
        partNumber: Number(request.params.partNumber),
        contentMd5: typeof contentMd5 === 'string' ? contentMd5 : undefined,
        ...signedLength(request),
        expires: Number(request.query.expires),
        signature: request.query.signature,
        body: request.raw,
      });
      return reply.header('etag', part.etag).send({ etag: part.etag });
    },
  );

  app.put(
    '/api/files/upload/put/local/',
    {
      schema: {
        tags,
        summary: 'Receive a whole file by a signed PUT (local storage; what Uppy sends small files with)',
        querystring: Type.Object({
          ...SignedSizeQuery.properties,
          key: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        response: { 200: Type.Object({ id: Type.Integer() }), ...errorResponses(400, 403, 404, 409, 413) },
      },
    },
    async (request, reply) => {
      const file = await localPutReceive(files, {
        key: request.query.key,
        ...signedLength(request),
        expires: Number(request.query.expires),
        signature: request.query.signature,
        body: request.raw,
      });
      return reply.header('etag', `"${file.file_name}"`).send({ id: file.id });
    },
  );
};
