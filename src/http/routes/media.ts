import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import { findFileByKey } from '../../core/files/repository.js';
import type { LocalStorage } from '../../core/storage/local.js';
import { downloadHeaders } from '../../core/storage/serving.js';
import type { Database } from '../../db/schema.js';
import { AppError, notFound } from '../../errors.js';
import { errorResponses } from '../schemas/common.js';

export interface MediaRoutesOptions {
  db: Kysely<Database>;
  storage: LocalStorage;
}

/** Serves local files behind signed, expiring links (the local twin of a presigned GET). */
const mediaRoutes: FastifyPluginAsyncTypebox<MediaRoutesOptions> = async (app, { db, storage }) => {
  // sendFile sets Content-Type from the extension; the record's type and disposition win here.
  const fileHeaders = new WeakMap<object, Record<string, string>>();
  app.get('/media/*', {
    onSend: async (request, reply, payload) => {
      const headers = fileHeaders.get(request);
      // the file's type and name belong on its bytes, not on an error sent instead of them
      if (headers && reply.statusCode < 400) reply.headers(headers);
      return payload;
    },
    schema: {
      tags: ['files'],
      summary: 'Download a locally stored file through a signed link from a file record\'s `url`',
      querystring: Type.Object({
        expires: Type.String({ pattern: '^[0-9]{1,12}$' }),
        signature: Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}$' }),
      }),
      response: {
        200: {
          description: "the file's bytes, with its recorded type (types not safe to show inline as an attachment)",
          content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        },
        ...errorResponses(400, 403, 404),
      },
    },
  }, async (request, reply) => {
    const key = (request.params as { '*': string })['*'];
    if (!storage.verifyDownload(key, Number(request.query.expires), request.query.signature)) {
      throw new AppError('permission_denied', 'This download link is invalid or has expired.');
    }
    storage.pathOf(key); // refuses keys that name nothing storable (NUL, dot folders) before the database sees them
    const file = await findFileByKey(db, key);
    // a record whose object is gone from disk (a partial restore) is as missing as no record
    if (!file || !file.upload_finished_at || !(await storage.head(key))) throw notFound();
    const served = downloadHeaders(file.original_file_name, file.file_type);
    fileHeaders.set(request, {
      'x-content-type-options': 'nosniff',
      // even if a type slips past the list, the response may run no script and reach nothing
      'content-security-policy': "default-src 'none'; sandbox",
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'private, max-age=3600',
      'content-type': served.contentType,
      'content-disposition': served.contentDisposition,
    });
    return reply.sendFile(key, storage.root);
  });
};

export default mediaRoutes;
