import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../fs-modes.js';
import type { Config, SqliteSynchronous } from '../config.js';
import type { Database } from './schema.js';
import { prepareNamedStatements } from './pg-prepared.js';
import { SqliteWriterDialect } from './sqlite-writer.js';

export type Db = Kysely<Database>;

/**
 * `statementTimeoutSeconds`: PostgreSQL only; its default lives in config (DATABASE_STATEMENT_TIMEOUT), unset means none.
 * `preparedStatements`: PostgreSQL only (DATABASE_PREPARED_STATEMENTS): the hot statements are
 *   prepared once per connection (pg-prepared.ts). On unless given.
 * `sqliteSynchronous`: SQLite only (SQLITE_SYNCHRONOUS), normal unless given.
 * `backgroundCheckpoints`: SQLite file only; a worker thread checkpoints the log (sqlite-checkpoints.ts).
 *   On unless given: a short-lived command turns it off.
 * A SQLite file is written on a thread of its own and read on the caller's (sqlite-writer.ts).
 */
export function createDatabase(
  databaseUrl: string,
  {
    statementTimeoutSeconds,
    sqliteSynchronous = 'normal',
    backgroundCheckpoints = true,
    preparedStatements = true,
  }: {
    statementTimeoutSeconds?: number;
    sqliteSynchronous?: SqliteSynchronous;
    backgroundCheckpoints?: boolean;
    preparedStatements?: boolean;
  } = {},
): Db {
  if (databaseUrl.startsWith('sqlite:')) {
    const path = databaseUrl.slice('sqlite:'.length);
    // busy_timeout waits for the write lock (another process's) instead of failing with
    // "database is locked" as the reference does under load
    const pragmas = [
      `busy_timeout = ${BUSY_TIMEOUT_MS}`,
      'foreign_keys = ON',
      `synchronous = ${sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL'}`,
    ];
    // a database in memory is one connection's own: no second thread can reach it
    if (path === ':memory:' || path === '') {
      const database = async () => {
        const sqlite = new SQLite(path);
        for (const pragma of pragmas) sqlite.pragma(pragma);
        return withStatementCache(sqlite);
      };
      return new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    }
    makePrivate(path);
    return new Kysely<Database>({
      dialect: new SqliteWriterDialect({
        path,
        reader: () => {
          const sqlite = new SQLite(path);
          // WAL lets readers run beside the one writer (a worker thread: sqlite-writer.ts)
          sqlite.pragma('journal_mode = WAL');
          sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
          return withStatementCache(sqlite);
        },
        pragmas,
        cacheLimit: STATEMENT_CACHE_LIMIT,
        backgroundCheckpoints,
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
  if (preparedStatements) prepareNamedStatements(pool);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** The app's database as its configuration says (the server and the CLI open it alike). */
export const openDatabase = (
  config: Pick<
    Config,
    'databaseUrl' | 'databaseStatementTimeoutSeconds' | 'databasePreparedStatements' | 'sqliteSynchronous'
  >,
  { backgroundCheckpoints = true }: { backgroundCheckpoints?: boolean } = {},
): Db =>
  createDatabase(config.databaseUrl, {
    statementTimeoutSeconds: config.databaseStatementTimeoutSeconds,
    preparedStatements: config.databasePreparedStatements,
    sqliteSynchronous: config.sqliteSynchronous,
    backgroundCheckpoints,
  });

/**
 * The database holds the signing secret: a new folder is 0700, the file 0600, created so before
 * SQLite opens it (SQLite gives -wal and -shm the file's mode). A file an earlier version left
 * readable by others is tightened, with its -wal and -shm; one owned by another user is left be.
 */
function makePrivate(path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true, mode: PRIVATE_DIR_MODE });
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, PRIVATE_FILE_MODE);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EPERM') throw error;
    }
  }
}

/** How long a connection waits for another's lock (a second process's write) before it fails. */
const BUSY_TIMEOUT_MS = 5000;

/** Compiled statements kept per connection: the app runs a small, fixed set of queries. */
const STATEMENT_CACHE_LIMIT = 500;

/**
 * better-sqlite3 compiles a statement on every prepare(); Kysely prepares per query. Keeping the
 * compiled statements removed the bulk of that cost in the start benchmark. Bounded, so generated
 * SQL cannot grow it without limit.
 */
function withStatementCache(sqlite: SQLite.Database, limit = STATEMENT_CACHE_LIMIT) {
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
