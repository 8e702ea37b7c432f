import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { mediaDownload, type MediaContext } from '../../core/files/media.js';
import { errorResponses } from '../schemas/common.js';

export type MediaRoutesOptions = MediaContext;

/** Serves local files behind signed, expiring links (the local twin of a presigned GET). */
const mediaRoutes: FastifyPluginAsyncTypebox<MediaRoutesOptions> = async (app, media) => {
  // sendFile sets Content-Type from the extension; the record's type and disposition win here.
  const fileHeaders = new WeakMap<object, Record<string, string>>();
  app.get(
    '/media/*',
    {
      onSend: async (request, reply, payload) => {
        const headers = fileHeaders.get(request);
        // the file's type and name belong on its bytes, not on an error sent instead of them
        if (headers && reply.statusCode < 400) reply.headers(headers);
        return payload;
      },
      schema: {
        tags: ['files'],
        summary: "Download a locally stored file through a signed link from a file record's `url`",
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
    },
    async (request, reply) => {
      const download = await mediaDownload(media, {
        key: (request.params as { '*': string })['*'],
        expires: Number(request.query.expires),
        signature: request.query.signature,
      });
      fileHeaders.set(request, download.headers);
      return reply.sendFile(download.key, download.root);
    },
  );
};

export default mediaRoutes;
