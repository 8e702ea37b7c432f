import type { AnyDb } from './any-db.js';
import { PostgresAdapter } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

export const dialectOf = (db: AnyDb): DialectName =>
  db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
