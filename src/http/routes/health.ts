import type { AnyDb } from '../../db/any-db.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { StorageBackend } from '../../core/storage/types.js';
import { AppError, isAppError } from '../../errors.js';
import { errorResponses } from '../schemas/common.js';

export interface HealthRoutesOptions {
  db: AnyDb;
  storage: StorageBackend;
  /** how long each readiness check may take */
  timeoutMs?: number;
}

const Checks = Type.Object({ database: Type.String(), storage: Type.String() });

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Why a check failed, in words an operator can act on; never credentials. */
function reasonOf(error: unknown): string {
  if (isAppError(error))
    return typeof error.extra?.reason === 'string' ? `${error.message} (${error.extra.reason})` : error.message;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

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
    async () => {
      const checks = { database: 'ok', storage: 'ok' };
      const reasons: string[] = [];
      const run = async (name: 'database' | 'storage', check: () => Promise<unknown>) => {
        try {
          await withTimeout(check(), timeoutMs, name);
        } catch (error) {
          checks[name] = 'unavailable';
          reasons.push(`${name}: ${reasonOf(error)}`);
        }
      };
      await Promise.all([run('database', () => sql`select 1`.execute(db)), run('storage', () => storage.ping())]);
      if (reasons.length) {
        const failed = Object.keys(checks).filter((name) => checks[name as keyof typeof checks] !== 'ok');
        throw new AppError('not_ready', `Not ready: the ${failed.join(' and ')} cannot be reached.`, {
          reason: reasons.join('; '),
          checks,
        });
      }
      return { status: 'ready' as const, checks };
    },
  );
};

export default healthRoutes;
