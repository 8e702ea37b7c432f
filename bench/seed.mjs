// Finished file records written straight into a migrated Chute database, in bulk: one INSERT ...
// SELECT over a generated series (SQLite: a recursive CTE; PostgreSQL: generate_series), so that a
// million rows take seconds rather than a million round trips. Every run writes the same rows.
import { createHash } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { sleep } from './lib.mjs';

/** The bench user's share of the records: a long-time user among many, at most OWN_MAX files. */
const OWN_SHARE = 0.01;
const OWN_MAX = 1000;
/** records per other uploader (their ids follow the bench user's; no user rows: uploaded_by has no foreign key) */
const PER_UPLOADER = 1000;
const TYPES = [
  ['jpg', 'image/jpeg'],
  ['png', 'image/png'],
  ['pdf', 'application/pdf'],
  ['mp4', 'video/mp4'],
];
/** created over 2025, oldest first, as ids grow */
const SINCE = Date.UTC(2025, 0, 1) / 1000;
const YEAR = 365 * 24 * 3600;

const isSqlite = (databaseUrl) => databaseUrl.startsWith('sqlite:');

/** A connection with one method for either database: query(sql) -> rows. */
async function connect(databaseUrl) {
  if (isSqlite(databaseUrl)) {
    const sqlite = new SQLite(databaseUrl.slice('sqlite:'.length));
    sqlite.pragma('busy_timeout = 5000');
    return {
      sqlite,
      query: async (text) => {
        const statement = sqlite.prepare(text);
        if (statement.reader) return statement.all();
        statement.run();
        return [];
      },
      close: async () => sqlite.close(),
    };
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return { query: async (text) => (await client.query(text)).rows, close: () => client.end() };
}

/** How each database numbers the rows and writes a time given in epoch seconds. */
const DIALECTS = {
  sqlite: {
    series: (n) =>
      `(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s) AS s`,
    time: (seconds) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${seconds}, 'unixepoch')`, // as toISOString() writes it
  },
  postgres: {
    series: (n) => `generate_series(1, ${n}) AS s(i)`,
    time: (seconds) => `to_timestamp(${seconds})`,
  },
};

/** CASE i % n WHEN 0 THEN 'a' ...: the k-th value for row i. */
const pick = (values) =>
  `CASE i % ${values.length} ${values.map((value, k) => `WHEN ${k} THEN '${value}'`).join(' ')} END`;

/** Rows 1..rows; every `every`-th the owner's; names are md5 hex of the row number (32 hex digits, as uuid4 names). */
function insertSql({ rows, ownerId, every, uploaders }, { series, time }) {
  const created = `${SINCE} + i * ${YEAR / rows}`;
  const finished = time(`${created} + 30`);
  const ext = pick(TYPES.map(([name]) => name));
  return `INSERT INTO chute_files (file, original_file_name, file_name, file_type, file_size, uploaded_by,
      upload_finished_at, upload_received_at, upload_method, state, created_at, updated_at)
    SELECT 'files/' || name, 'upload ' || i || '.' || ext, name, type, 1024 + (i % 4999) * 1000,
      CASE WHEN i % ${every} = 0 THEN '${ownerId}' ELSE CAST(${ownerId + 1} + i % ${uploaders} AS text) END,
      ${finished}, ${finished}, 'post', 'valid', ${time(created)}, ${finished}
    FROM (SELECT i, md5('chute-bench ' || i) || '.' || ${ext} AS name, ${ext} AS ext,
      ${pick(TYPES.map(([, type]) => type))} AS type
      FROM ${series(rows)}) AS n`;
}

/** PostgreSQL: the share of chute_files' pages VACUUM marked all-visible (index-only scans need it). */
async function visibleShare(db) {
  const [{ pages, visible }] = await db.query(
    "SELECT relpages AS pages, relallvisible AS visible FROM pg_class WHERE relname = 'chute_files'",
  );
  return pages ? visible / pages : 1;
}

/**
 * `rows` finished records into the migrated, still empty chute_files of `databaseUrl`, about 1% of
 * them (at most 1,000) uploaded by the user `ownerEmail`, the rest by other uploaders.
 * @returns {Promise<{ databaseUrl: string, rows: number, own: number, ownerId: number, lastId: number,
 *   allVisible: number|null, seconds: number }>} allVisible: PostgreSQL's share of all-visible pages after VACUUM
 */
export async function seedFiles(databaseUrl, { rows, ownerEmail }) {
  const started = performance.now();
  const db = await connect(databaseUrl);
  try {
    const owner = (await db.query('SELECT id, email FROM chute_users')).find((user) => user.email === ownerEmail);
    if (!owner) throw new Error(`seed: no user ${ownerEmail}`);
    const every = Math.ceil(rows / Math.min(Math.round(rows * OWN_SHARE), OWN_MAX));
    const plan = {
      rows,
      ownerId: owner.id,
      every,
      uploaders: Math.max(1, Math.round(rows / PER_UPLOADER)),
    };
    let allVisible = null;
    if (db.sqlite) {
      // the server never runs ANALYZE: neither does this, so its planner sees what a real one does
      db.sqlite.pragma('synchronous = OFF');
      db.sqlite.pragma('cache_size = -524288'); // 512 MiB: the random file_name index stays in memory
      db.sqlite.function('md5', { deterministic: true }, (text) =>
        createHash('md5').update(String(text)).digest('hex'),
      );
      await db.query(insertSql(plan, DIALECTS.sqlite));
    } else {
      await db.query(insertSql(plan, DIALECTS.postgres));
      // what autovacuum does after such an insert: statistics, and the visibility map for index-only scans
      await db.query('VACUUM ANALYZE chute_files');
      allVisible = await visibleShare(db);
      // a transaction open elsewhere in the cluster can keep VACUUM from marking the pages (counts then
      // read the table, not the index): again a few times, as autovacuum would come back
      for (let attempt = 0; attempt < 10 && allVisible < 0.99; attempt++) {
        await sleep(1000);
        await db.query('VACUUM chute_files');
        allVisible = await visibleShare(db);
      }
    }
    const [{ last }] = await db.query('SELECT max(id) AS last FROM chute_files');
    return {
      databaseUrl,
      rows,
      own: Math.floor(rows / every),
      ownerId: owner.id,
      lastId: Number(last),
      allVisible,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await db.close();
  }
}

/** Removes every record made after the seeding (ids above `lastId`): the database is back to its seeded size. */
export async function deleteFilesAfter(databaseUrl, lastId) {
  const db = await connect(databaseUrl);
  try {
    await db.query(`DELETE FROM chute_files WHERE id > ${Number(lastId)}`);
  } finally {
    await db.close();
  }
}
