import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** `statementTimeoutSeconds`: PostgreSQL only; its default lives in config (DATABASE_STATEMENT_TIMEOUT), unset means none. */
export function createDatabase(databaseUrl: string, { statementTimeoutSeconds }: { statementTimeoutSeconds?: number } = {}): Db {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
    return new Kysely<Database>({
      dialect: new SqliteDialect({
        database: async () => {
          const sqlite = new SQLite(path);
          // WAL lets readers run beside the one writer; busy_timeout waits for the write lock
          // instead of failing with "database is locked" as the reference does under load.
          sqlite.pragma('journal_mode = WAL');
          sqlite.pragma('busy_timeout = 5000');
          sqlite.pragma('foreign_keys = ON');
          sqlite.pragma('synchronous = NORMAL');
          return withStatementCache(sqlite);
        },
      }),
    });
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 10,
    connectionTimeoutMillis: 5000,
    // A statement stuck behind a lock or running long is cancelled by the server (57014, answered
    // as database_unavailable) instead of holding its request and pool connection forever.
    // Migrations lift it on their connection (migrate.ts). No client-side query_timeout: that one
    // cannot be lifted per connection and would cut a long index build in a migration.
    ...(statementTimeoutSeconds && { statement_timeout: statementTimeoutSeconds * 1000 }),
  });
  // An idle connection killed by the server (restart, failover) must not crash the process:
  // the pool drops it and the next query opens a new one, or fails as database_unavailable.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * better-sqlite3 compiles a statement on every prepare(); Kysely prepares per query. Keeping the
 * compiled statements (the app runs a small, fixed set of queries) removed the bulk of that cost
 * in the start benchmark. Bounded, so generated SQL cannot grow it without limit.
 */
function withStatementCache(sqlite: SQLite.Database, limit = 500) {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SQLite.Statement {
      let statement = statements.get(sql);
      if (!statement) {
        statement = sqlite.prepare(sql);
        if (statements.size >= limit) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
