import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config.js';

export interface RegisteredRoute {
  method: string;
  url: string;
  schema: (FastifySchema & { hide?: boolean }) | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** every route registered after the docs plugin, as the router got it: the docs-coverage test compares */
    registeredRoutes: RegisteredRoute[];
  }
}

/** OpenAPI 3 generated from the route schemas: /api/openapi.json, browsable at /api/docs. */
async function apiDocs(app: FastifyInstance, { config }: { config: Config }) {
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      routes.push({ method, url: route.url, schema: route.schema as RegisteredRoute['schema'] });
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Chute', description: 'Direct-to-S3 file uploads', version: '0.1.0' },
      servers: [{ url: config.appDomain }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'the `session` from /api/auth/login/, or a JWT of the identity system set by AUTH_JWT_SECRET / AUTH_JWKS_URL',
          },
          cookie: { type: 'apiKey', in: 'cookie', name: 'sessionid' },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get(
    '/api/openapi.json',
    {
      schema: {
        tags: ['docs'],
        summary: 'This OpenAPI 3 document (browsable at /api/docs)',
        response: { 200: { type: 'object', additionalProperties: true, description: 'an OpenAPI 3.0 document' } },
      },
    },
    async () => app.swagger(),
  );
}

export default fp(apiDocs, { name: 'chute-api-docs' });
