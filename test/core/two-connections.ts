import type { TestContext } from 'node:test';
import { createDatabase, type Db } from '../../src/db/index.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { defer, freshDatabase } from '../helpers.js';

/** Two connections (pools) to one fresh, migrated database, as two server processes have. */
export async function twoConnections(t: Pick<TestContext, 'after'>): Promise<readonly [Db, Db]> {
  const url = await freshDatabase(t);
  const first = createDatabase(url);
  await migrateToLatest(first);
  const second = createDatabase(url);
  defer(t, async () => {
    await first.destroy();
    await second.destroy();
  });
  return [first, second] as const;
}
