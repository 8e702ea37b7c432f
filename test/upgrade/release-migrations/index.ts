// Chute's migrations 0001-0006 exactly as the release before the `chute_` prefix shipped them
// (unprefixed tables, history in kysely_migration): databases made by that release, built here
// to test the upgrade in place.
import type { Migration } from 'kysely';
import * as m0001 from './0001_initial.js';
import * as m0002 from './0002_multipart.js';
import * as m0003 from './0003_locks.js';
import * as m0004 from './0004_admin_indexes.js';
import * as m0005 from './0005_rate_limits.js';
import * as m0006 from './0006_file_state.js';

export const releaseMigrations: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_multipart': m0002,
  '0003_locks': m0003,
  '0004_admin_indexes': m0004,
  '0005_rate_limits': m0005,
  '0006_file_state': m0006,
};
