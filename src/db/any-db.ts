import type { Kysely } from 'kysely';

/**
 * A database of any schema: the code that takes it (locks, counters, migrations, prepared
 * queries) works on tables of its own, beside whatever schema the caller's Kysely is typed with.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's own advice for code that spans schemas
export type AnyDb = Kysely<any>;
