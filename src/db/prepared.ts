import { createHash } from 'node:crypto';
import type { AnyDb } from './any-db.js';
import type { Compilable, CompiledQuery, DialectAdapter, KyselyPlugin, QueryResult } from 'kysely';

/** Compiled forms kept per dialect adapter (one per distinct plugin list; Chute itself uses one or two). */
const MAX_PLUGIN_LISTS = 8;

/** The SQL compiled here and its statement name: PostgreSQL connections prepare it once (pg-prepared.ts). */
const statementNames = new Map<string, string>();

/** The name under which a connection may prepare `sql`, if preparedQuery or executeNamed compiled it. */
export const preparedStatementName = (sql: string): string | undefined => statementNames.get(sql);

/** Marks a compiled query as one to prepare (PostgreSQL): it gets a name, the same in every process. */
function namedStatement<Q extends CompiledQuery>(query: Q): Q {
  if (!statementNames.has(query.sql)) {
    // the same SQL has the same name in every process (63 bytes at most in PostgreSQL)
    statementNames.set(query.sql, `chute_${createHash('sha256').update(query.sql).digest('hex').slice(0, 32)}`);
  }
  return query;
}

/**
 * Compiles `query` and runs it as a prepared statement (PostgreSQL), for a hot statement whose
 * shape varies a little with its caller (a few SQL texts in all, never one per value) and so is
 * no preparedQuery.
 */
export const executeNamed = <Row>(db: AnyDb, query: Compilable<Row>): Promise<QueryResult<Row>> =>
  db.executeQuery(namedStatement(query.compile()));

/** The entry compiled for exactly these plugins (the same instances, in the same order). */
function findEntry<E extends { plugins: readonly KyselyPlugin[] }>(
  entries: E[],
  plugins: readonly KyselyPlugin[],
): E | undefined {
  search: for (const entry of entries) {
    if (entry.plugins.length !== plugins.length) continue;
    for (let i = 0; i < plugins.length; i++) if (entry.plugins[i] !== plugins[i]) continue search;
    return entry;
  }
  return undefined;
}

/**
 * A query built and compiled once per database, then run with new values. Building and compiling
 * a Kysely query costs more CPU than SQLite takes to answer a primary-key lookup; the hot paths
 * (session lookup, file insert on start) reuse the compiled SQL instead. The SQL still comes from
 * Kysely, so it is right for each dialect, and it still runs through Kysely's executor (the SQLite
 * connection lock, transactions).
 *
 * The SQL is kept per dialect adapter and plugin list, so a transaction (which shares both with
 * its database) reuses its database's. `build` receives a marker per parameter name and must use
 * each where the value goes.
 */
export function preparedQuery<Row, Names extends string>(
  names: readonly Names[],
  // biome-ignore lint/suspicious/noExplicitAny: a marker stands in for a value of any column's type
  build: (db: AnyDb, param: Record<Names, any>) => Compilable<Row>,
): (db: AnyDb, values: Record<Names, unknown>) => Promise<Row[]> {
  type Entry = { plugins: readonly KyselyPlugin[]; query: CompiledQuery<Row>; order: Names[] };
  const compiled = new WeakMap<DialectAdapter, Entry[]>();
  const markers = Object.fromEntries(names.map((name) => [name, `\u0000param:${name}`])) as Record<Names, string>;
  const nameOf = new Map(names.map((name) => [markers[name] as unknown, name]));

  const compile = (db: AnyDb, plugins: readonly KyselyPlugin[], entries: Entry[]) => {
    const query = namedStatement(build(db, markers).compile());
    const order = query.parameters.map((value) => {
      const name = nameOf.get(value);
      if (name === undefined)
        throw new Error(`preparedQuery: a constant value in ${query.sql}; pass it as a parameter`);
      return name;
    });
    const entry = { plugins, query, order };
    // a host making a new plugin instance per query would grow the list without end: keep the newest
    if (entries.push(entry) > MAX_PLUGIN_LISTS) entries.shift();
    return entry;
  };

  return async (db, values) => {
    const { adapter, plugins } = db.getExecutor();
    let entries = compiled.get(adapter);
    if (!entries) compiled.set(adapter, (entries = []));
    const { query, order } = findEntry(entries, plugins) ?? compile(db, plugins, entries);
    const parameters = order.map((name) => values[name]);
    const result = await db.executeQuery<Row>({ ...query, parameters });
    return result.rows;
  };
}
