// PostgreSQL plans a statement every time it arrives unnamed, which is how Kysely's driver sends
// them. For the hot statements (preparedQuery: the session lookup, the file insert) planning cost
// more than running them: the session lookup, a join, ~240 µs to plan and ~50 µs to run, on every
// authenticated request. So each connection of the pool prepares those statements under a name the
// first time it sends one and sends only the values afterwards (pg's `name` option).
//
// A named statement can fail where an unnamed one would not: after a migration by another process
// changed a table it returns whole rows of (0A000 "cached plan must not change result type"), or
// behind a pooler that moves sessions between server connections (26000 / 42P05). The statement
// did not run then; this connection sends it unnamed from then on, and once again now (inside a
// transaction that retry fails too: the transaction is already aborted, and its caller sees that).
import type pg from 'pg';
import { preparedStatementName } from './prepared.js';

const UNPREPARED = new Set(['0A000', '26000', '42P05']);

type Query = (text: unknown, values?: unknown, callback?: unknown) => Promise<pg.QueryResult> | undefined;

/**
 * Makes every connection `pool` opens from now on send Chute's hot statements by name; any other
 * query is sent as it was. @chute/server exports it as prepareChuteStatements for a host that
 * gives Chute a Kysely over its own pool: call it right after making the pool.
 */
export function prepareNamedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as Query;
    const unnamed = new Set<string>();
    const namedQuery: Query = (text, values, callback) => {
      const name = typeof text === 'string' && callback === undefined ? preparedStatementName(text) : undefined;
      if (name === undefined || unnamed.has(name)) return query(text, values, callback);
      return query({ name, text, values })!.catch((error: { code?: string }) => {
        if (!UNPREPARED.has(error?.code ?? '')) throw error;
        unnamed.add(name);
        return query(text, values)!;
      });
    };
    client.query = namedQuery as typeof client.query;
  });
}
