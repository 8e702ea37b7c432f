import { sql, type Kysely } from 'kysely';
import { dialectOf } from '../../../src/db/dialect.js';

// Named leases shared by every process on the database (src/db/locks.ts): a job such as the
// abandoned-upload cleanup runs in one process at a time, and a crashed holder's lease expires.
export async function up(db: Kysely<any>): Promise<void> {
  const timestamp = dialectOf(db) === 'postgres' ? sql`timestamptz` : sql`text`;
  await db.schema
    .createTable('locks')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('locks').execute();
}
