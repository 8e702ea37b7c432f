import type { MultipartFile } from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { fileGetSettled, fileListSettled } from '../../core/files/settle.js';
import {
  fileDelete,
  fileDirectUploadFinish,
  fileDirectUploadLocal,
  fileDirectUploadLocalUndo,
  fileDirectUploadStart,
  fileStandardUpload,
  type FilesContext,
} from '../../core/files/services.js';
import { AppError } from '../../errors.js';
import { actorOf } from '../plugins/auth.js';
import { startRateLimitConfig } from '../plugins/rate-limit.js';
import { Empty, errorResponses, IdParams } from '../schemas/common.js';
import { DirectFinishBody, DirectStartBody, DirectStartResponse, FileListQuery, FileListResponse, IdResponse } from '../schemas/files.js';
import { serializeFile } from '../serializers.js';
import { Type } from 'typebox';

export interface FileRoutesOptions {
  files: FilesContext;
  requireUser: onRequestHookHandler;
  /** starts per user per window (START_RATE_LIMIT); counted after requireUser has set the actor */
  startRateLimit?: { max: number; timeWindow: number };
}

/**
 * The one `file` part of a multipart request. Busboy's own limit sits one byte past ours so
 * that our counter, not a silent truncation, decides what is too large.
 */
async function filePart(request: FastifyRequest, maxSize: number): Promise<MultipartFile & { rest(): Promise<void> }> {
  const parts = request.parts({ preservePath: true, limits: { fileSize: maxSize + 1, files: 1, fields: 20, fieldSize: 64 * 1024 } });
  let next = await parts.next();
  while (!next.done && !('file' in next.value)) next = await parts.next(); // fields before the file are ignored
  const part = next.done ? undefined : (next.value as MultipartFile);
  if (!part) throw new AppError('file_missing', 'No file was submitted: send it as the multipart field "file".');
  // Once the file is stored: what follows must not be another file (busboy's files limit throws then).
  const rest = async () => {
    for await (const extra of parts) {
      if ('file' in extra) {
        extra.file.resume();
        throw new AppError('payload_too_large', 'Send one file per request.');
      }
    }
  };
  if (part.fieldname !== 'file') {
    part.file.resume();
    throw new AppError('file_missing', `No file was submitted: the file must be the multipart field "file", not "${part.fieldname}".`);
  }
  return Object.assign(part, { rest });
}

/** A refused upload's remaining bytes are read and dropped, so the error reply can reach the client. */
async function drainOnError<T>(part: MultipartFile, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (!part.file.destroyed) part.file.resume();
    throw error;
  }
}

/** Busboy cuts a stream at its limit rather than failing it: a cut stream is a too-large file. */
function assertComplete(part: MultipartFile, maxSize: number): void {
  if (part.file.truncated) throw new AppError('file_too_large', `File is too large. It should not exceed ${maxSize} bytes.`);
}

const fileRoutes: FastifyPluginAsyncTypebox<FileRoutesOptions> = async (app, { files, requireUser, startRateLimit }) => {
  app.addHook('onRequest', requireUser); // before the start limit, which is keyed by the user
  const tags = ['files'];
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];
  const standardMaxSize = files.policy.standardMaxSize ?? files.policy.maxSize;

  app.post('/api/files/upload/direct/start/', {
    schema: {
      tags, security,
      summary: 'Start a direct upload: create a pending file record and presign where the browser sends the bytes',
      body: DirectStartBody,
      response: { 200: DirectStartResponse, ...errorResponses(400, 401, 413, 415, 429) },
    },
    ...startRateLimitConfig(startRateLimit),
  }, async (request) => {
    const { file, upload } = await fileDirectUploadStart(files, {
      actor: actorOf(request),
      fileName: request.body.file_name,
      fileType: request.body.file_type,
      fileSize: request.body.file_size,
    });
    return { id: file.id, url: upload.url, fields: upload.fields };
  });

  app.post('/api/files/upload/direct/local/:id/', {
    schema: {
      tags, security,
      summary: 'Receive the bytes of a direct upload (local storage only); multipart field `file`',
      consumes: ['multipart/form-data'],
      params: IdParams,
      response: { 200: IdResponse, ...errorResponses(400, 401, 404, 409, 410, 413, 415) },
    },
  }, async (request) => {
    const part = await filePart(request, files.policy.maxSize);
    const file = await drainOnError(part, () =>
      fileDirectUploadLocal(files, { actor: actorOf(request), fileId: Number(request.params.id), body: part.file }),
    );
    assertComplete(part, files.policy.maxSize);
    await part.rest().catch(async (error) => {
      await fileDirectUploadLocalUndo(files, file).catch(() => undefined);
      throw error;
    });
    return { id: file.id };
  });

  app.post('/api/files/upload/direct/finish/', {
    schema: {
      tags, security,
      summary: 'Finish a direct upload: verify the stored object, then mark the file valid',
      body: DirectFinishBody,
      response: { 200: Type.Ref('File'), ...errorResponses(400, 401, 404, 409, 503) },
    },
  }, async (request) => {
    const file = await fileDirectUploadFinish(files, { actor: actorOf(request), fileId: Number(request.body.file_id) });
    return serializeFile(files, file);
  });

  app.post('/api/files/upload/standard/', {
    schema: {
      tags, security,
      summary: 'Upload through the server (streamed); multipart field `file`; valid at once',
      consumes: ['multipart/form-data'],
      response: { 201: Type.Ref('File'), ...errorResponses(400, 401, 409, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const part = await filePart(request, standardMaxSize);
    const file = await drainOnError(part, () =>
      fileStandardUpload(files, { uploadedBy: actorOf(request).id, body: part.file, fileName: part.filename, clientType: part.mimetype, maxSize: standardMaxSize }),
    );
    assertComplete(part, standardMaxSize);
    await part.rest().catch(async (error) => {
      await fileDelete(files, { actor: actorOf(request), fileId: file.id }).catch(() => undefined);
      throw error;
    });
    return reply.status(201).send(await serializeFile(files, file));
  });

  app.get('/api/files/', {
    schema: {
      tags, security,
      summary: "The caller's files, newest first",
      querystring: FileListQuery,
      response: { 200: FileListResponse, ...errorResponses(400, 401) },
    },
  }, async (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 20), 1), 100);
    const offset = Number(request.query.offset ?? 0);
    const { count, files: rows } = await fileListSettled(files, { actor: actorOf(request), limit, offset });
    return { count, limit, offset, results: await Promise.all(rows.map((file) => serializeFile(files, file))) };
  });

  app.get('/api/files/:id/', {
    schema: {
      tags, security,
      summary: 'One file',
      params: IdParams,
      response: { 200: Type.Ref('File'), ...errorResponses(400, 401, 404) },
    },
  }, async (request) => serializeFile(files, await fileGetSettled(files, { actor: actorOf(request), fileId: Number(request.params.id) })));

  app.delete('/api/files/:id/', {
    schema: {
      tags, security,
      summary: 'Delete a file: its stored object, then its record',
      params: IdParams,
      response: { 204: Empty, ...errorResponses(400, 401, 404, 409, 503) },
    },
  }, async (request, reply) => {
    await fileDelete(files, { actor: actorOf(request), fileId: Number(request.params.id) });
    return reply.status(204).send({});
  });
};

export default fileRoutes;
