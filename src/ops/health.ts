// Readiness for orchestrators: the database answers a query and the storage is reachable.
import { sql } from 'kysely';
import type { StorageBackend } from '../core/storage/types.js';
import type { AnyDb } from '../db/any-db.js';
import { AppError, isAppError } from '../errors.js';

export interface ReadinessChecks {
  database: 'ok' | 'unavailable';
  storage: 'ok' | 'unavailable';
}

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

/** Both checks at once, each within timeoutMs; throws 503 not_ready naming what failed and why. */
export async function readiness({
  db,
  storage,
  timeoutMs,
}: {
  db: AnyDb;
  storage: StorageBackend;
  timeoutMs: number;
}): Promise<ReadinessChecks> {
  const checks: ReadinessChecks = { database: 'ok', storage: 'ok' };
  const reasons: string[] = [];
  const run = async (name: keyof ReadinessChecks, check: () => Promise<unknown>) => {
    try {
      await withTimeout(check(), timeoutMs, name);
    } catch (error) {
      checks[name] = 'unavailable';
      reasons.push(`${name}: ${reasonOf(error)}`);
    }
  };
  await Promise.all([run('database', () => sql`select 1`.execute(db)), run('storage', () => storage.ping())]);
  if (reasons.length) {
    const failed = (Object.keys(checks) as Array<keyof ReadinessChecks>).filter((name) => checks[name] !== 'ok');
    throw new AppError('not_ready', `Not ready: the ${failed.join(' and ')} cannot be reached.`, {
      reason: reasons.join('; '),
      checks,
    });
  }
  return checks;
}
