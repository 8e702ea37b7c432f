import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config.js';

/** OpenAPI 3 generated from the route schemas: /api/openapi.json, browsable at /api/docs. */
async function apiDocs(app: FastifyInstance, { config }: { config: Config }) {
  await app.register(swagger, {
    openapi: {
      info: { title: 'Chute', description: 'Direct-to-S3 file uploads', version: '0.1.0' },
      servers: [{ url: config.appDomain }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'the `session` from /api/auth/login/' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'sessionid' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

export default fp(apiDocs, { name: 'chute-api-docs' });
