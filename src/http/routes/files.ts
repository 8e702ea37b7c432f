import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { onRequestHookHandler } from 'fastify';
import { filePage } from '../../core/files/selectors.js';
import { fileGetSettled, fileListSettled } from '../../core/files/settle.js';
import {
  fileDelete,
  fileDirectUploadFinish,
  fileDirectUploadLocalChecked,
  fileDirectUploadStart,
  fileStandardUploadChecked,
  type FilesContext,
} from '../../core/files/services.js';
import { withFormFile } from '../form-file.js';
import { actorOf, onFileNoContent } from '../plugins/auth.js';
import { startRateLimitConfig } from '../plugins/rate-limit.js';
import { Empty, errorResponses, IdParams, startErrorResponses } from '../schemas/common.js';
import {
  DirectFinishBody,
  FileMadeValid,
  DirectStartBody,
  DirectStartResponse,
  FileListQuery,
  FileListResponse,
  IdResponse,
} from '../schemas/files.js';
import { fileJson } from '../../core/files/json.js';
import { Type } from 'typebox';

export interface FileRoutesOptions {
  files: FilesContext;
  requireUser: onRequestHookHandler;
  /** starts per user per window (START_RATE_LIMIT); counted after requireUser has set the actor */
  startRateLimit?: { max: number; timeWindow: number };
}

const fileRoutes: FastifyPluginAsyncTypebox<FileRoutesOptions> = async (
  app,
  { files, requireUser, startRateLimit },
) => {
  app.addHook('onRequest', requireUser); // before the start limit, which is keyed by the user
  const tags = ['files'];
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];
  const standardMaxSize = files.policy.standardMaxSize ?? files.policy.maxSize;

  app.post(
    '/api/files/upload/direct/start/',
    {
      schema: {
        tags,
        security,
        summary: 'Start a direct upload: create a pending file record and presign where the browser sends the bytes',
        body: DirectStartBody,
        response: { 200: DirectStartResponse, ...startErrorResponses(400, 401, 413, 415, 429) },
      },
      ...startRateLimitConfig(startRateLimit),
    },
    async (request) => {
      const { file, upload } = await fileDirectUploadStart(files, {
        actor: actorOf(request),
        fileName: request.body.file_name,
        fileType: request.body.file_type,
        fileSize: request.body.file_size,
      });
      return { id: file.id, url: upload.url, fields: upload.fields };
    },
  );

  app.post(
    '/api/files/upload/direct/local/:id/',
    {
      schema: {
        tags,
        security,
        summary: 'Receive the bytes of a direct upload (local storage only); multipart field `file`',
        consumes: ['multipart/form-data'],
        params: IdParams,
        response: { 200: IdResponse, ...errorResponses(400, 401, 404, 409, 410, 413, 415) },
      },
    },
    async (request) => {
      const file = await withFormFile(request, files.policy.maxSize, ({ body, rest }) =>
        fileDirectUploadLocalChecked(files, {
          actor: actorOf(request),
          fileId: Number(request.params.id),
          body,
          afterStored: rest,
        }),
      );
      return { id: file.id };
    },
  );

  app.post(
    '/api/files/upload/direct/finish/',
    {
      schema: {
        tags,
        security,
        summary: 'Finish a direct upload: verify the stored object, then mark the file valid',
        body: DirectFinishBody,
        response: FileMadeValid,
      },
    },
    async (request) => {
      const file = await fileDirectUploadFinish(files, {
        actor: actorOf(request),
        fileId: Number(request.body.file_id),
      });
      return fileJson(files, file);
    },
  );

  app.post(
    '/api/files/upload/standard/',
    {
      schema: {
        tags,
        security,
        summary: 'Upload through the server (streamed); multipart field `file`; valid at once',
        consumes: ['multipart/form-data'],
        response: { 201: Type.Ref('File'), ...startErrorResponses(400, 401, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const file = await withFormFile(request, standardMaxSize, ({ body, fileName, clientType, rest }) =>
        fileStandardUploadChecked(files, {
          actor: actorOf(request),
          body,
          fileName,
          clientType,
          maxSize: standardMaxSize,
          afterStored: rest,
        }),
      );
      return reply.status(201).send(await fileJson(files, file));
    },
  );

  app.get(
    '/api/files/',
    {
      schema: {
        tags,
        security,
        summary: "The caller's files, newest first",
        querystring: FileListQuery,
        response: { 200: FileListResponse, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const { limit, offset } = filePage(request.query);
      const { count, files: rows } = await fileListSettled(files, { actor: actorOf(request), limit, offset });
      return { count, limit, offset, results: await Promise.all(rows.map((file) => fileJson(files, file))) };
    },
  );

  app.get(
    '/api/files/:id/',
    {
      schema: {
        tags,
        security,
        summary: 'One file',
        params: IdParams,
        response: { 200: Type.Ref('File'), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) =>
      fileJson(files, await fileGetSettled(files, { actor: actorOf(request), fileId: Number(request.params.id) })),
  );

  app.delete(
    '/api/files/:id/',
    {
      schema: {
        tags,
        security,
        summary: 'Delete a file: its stored object, then its record',
        params: IdParams,
        response: { 204: Empty, ...errorResponses(400, 401, 404, 409, 503) },
      },
    },
    onFileNoContent(files, fileDelete),
  );
};

export default fileRoutes;
