import type { Kysely } from 'kysely';

/**
 * A database of any schema: the code that takes it (locks, counters, migrations, prepared
 * queries) works on tables of its own, beside whatever schema the caller's Kysely is typed with.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's own advice for code that spans schemas
export type AnyDb = Kysely<any>;

/** A database seen through the tables of one module (locks, counters), beside the shared schema. */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's own bound on a table's columns
export const withOwnTables = <Tables extends Record<string, Record<string, any>>>(db: AnyDb): Kysely<Tables> =>
  db.withTables<Tables>() as unknown as Kysely<Tables>;
