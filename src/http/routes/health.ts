import type { AnyDb } from '../../db/any-db.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { StorageBackend } from '../../core/storage/types.js';
import { readiness } from '../../ops/health.js';
import { errorResponses } from '../schemas/common.js';

export interface HealthRoutesOptions {
  db: AnyDb;
  storage: StorageBackend;
  /** how long each readiness check may take */
  timeoutMs?: number;
}

const Checks = Type.Object({ database: Type.String(), storage: Type.String() });

/** Liveness (the process answers) and readiness (database and storage reachable) for orchestrators. */
const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (
  app,
  { db, storage, timeoutMs = 5_000 },
) => {
  const tags = ['ops'];

  app.get(
    '/healthz',
    {
      schema: {
        tags,
        summary: 'Liveness: 200 while the process is up',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags,
        summary:
          'Readiness: 200 when the database answers a query and the storage is reachable; 503 not_ready with the reason otherwise',
        response: { 200: Type.Object({ status: Type.Literal('ready'), checks: Checks }), ...errorResponses(503) },
      },
    },
    async () => ({ status: 'ready' as const, checks: await readiness({ db, storage, timeoutMs }) }),
  );
};

export default healthRoutes;
