// The admin file list: search, filters, every sort in both directions, pages. Rows are inserted
// straight into the database (no storage needed) and the answers compared with the same
// ordering computed here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ADMIN_FILE_SORTS, searchesGeneratedName } from '../../src/core/files/admin.js';
import { sql } from 'kysely';
import * as m0011 from '../../src/db/migrations/0011_admin_valid_indexes.js';
import { build, createUser, usingPostgres, type TestUser } from '../helpers.js';

interface Listed {
  id: number;
  original_file_name: string;
  file_name: string;
  file_type: string;
  file_size: number | null;
  uploaded_by: number | null;
  uploaded_by_email: string | null;
  created_at: string;
  upload_finished_at: string | null;
  is_valid: boolean;
  url: string | null;
}

const NAMES = [
  'Quarterly report.pdf',
  'holiday_photo.jpg',
  'notes.txt',
  'Budget 2026.xlsx',
  'logo.png',
  'report-final.pdf',
  'data_100%.csv',
  'archive.zip',
];
const TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  jpg: 'image/jpeg',
  txt: 'text/plain',
  xlsx: 'application/vnd.ms-excel',
  png: 'image/png',
  csv: 'text/csv',
  zip: 'application/zip',
};

async function seed(app: FastifyInstance, uploaders: Array<number | null>): Promise<void> {
  const base = Date.UTC(2026, 0, 1);
  const rows = Array.from({ length: 40 }, (_, i) => {
    const name = NAMES[i % NAMES.length]!;
    const ext = name.split('.').pop()!;
    const pending = i % 5 === 0;
    const created = new Date(base + ((i * 7919) % 40) * 3600_000).toISOString();
    return {
      file: `files/${String(i).padStart(32, '0')}.${ext}`,
      original_file_name: name,
      file_name: `${String(i).padStart(32, '0')}.${ext}`,
      file_type: TYPES[ext]!,
      file_size: pending ? null : ((i * 104729) % 5000) + 1,
      uploaded_by: uploaders[i % uploaders.length]?.toString() ?? null,
      upload_method: pending ? ('post' as const) : ('standard' as const),
      state: pending ? ('pending' as const) : ('valid' as const),
      upload_received_at: pending ? null : created,
      upload_finished_at: pending ? null : new Date(Date.parse(created) + ((i * 31) % 60) * 60_000).toISOString(),
      created_at: created,
      updated_at: created,
    };
  });
  await app.chute.db.insertInto('chute_files').values(rows).execute();
}

async function list(app: FastifyInstance, staff: TestUser, query: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
  const response = await app.inject({ method: 'GET', url: `/api/admin/files/?${qs}`, headers: staff.headers });
  assert.equal(response.statusCode, 200, `${qs}: ${response.body}`);
  return response.json() as { count: number; limit: number; offset: number; results: Listed[] };
}

/** The database's own ordering, modelled: NULLs first ascending on SQLite, last on PostgreSQL. */
function compare(sort: string, a: Listed, b: Listed): number {
  const value = (file: Listed): string | number | null => {
    switch (sort) {
      case 'uploaded_by':
        return file.uploaded_by_email;
      case 'is_valid':
        return file.is_valid ? 1 : 0;
      default:
        return file[sort as keyof Listed] as string | number | null;
    }
  };
  const [x, y] = [value(a), value(b)];
  if (x === y) {
    // the tie-breaker: the generated name (unique) for the original name, id for the rest
    if (sort === 'original_file_name') return a.file_name < b.file_name ? -1 : 1;
    return sort === 'file_name' ? 0 : a.id - b.id;
  }
  if (x === null) return usingPostgres ? 1 : -1;
  if (y === null) return usingPostgres ? -1 : 1;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  // SQLite compares text byte-wise (BINARY); the names here are ASCII
  const cmp = String(x) < String(y) ? -1 : 1;
  return cmp;
}

describe('admin file list', () => {
  test('every sort column in both directions orders the whole list as the database does, page after page', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true, email: 'zed@example.com' });
    const alice = await createUser(app, { email: 'alice@example.com' });
    const bob = await createUser(app, { email: 'bob@example.com' });
    await seed(app, [alice.id, bob.id, staff.id, null]);

    const all = (await list(app, staff, { limit: 200 })).results;
    assert.equal(all.length, 40);
    assert.deepEqual(
      all.map((f) => f.id),
      [...all].map((f) => f.id).sort((a, b) => b - a),
      'default: newest id first',
    );

    for (const sort of ADMIN_FILE_SORTS) {
      for (const order of ['asc', 'desc'] as const) {
        const expected = [...all].sort((a, b) => compare(sort, a, b) * (order === 'asc' ? 1 : -1)).map((f) => f.id);
        const whole = (await list(app, staff, { sort, order, limit: 200 })).results.map((f) => f.id);
        if (
          usingPostgres &&
          sort !== 'id' &&
          sort !== 'file_size' &&
          sort !== 'is_valid' &&
          sort !== 'created_at' &&
          sort !== 'upload_finished_at'
        ) {
          // PostgreSQL sorts text by the database collation, not byte-wise: compare sets only
          assert.deepEqual([...whole].sort(), [...expected].sort(), `${sort} ${order}`);
        } else {
          assert.deepEqual(whole, expected, `${sort} ${order}`);
        }
        const paged: number[] = [];
        for (let offset = 0; offset < 40; offset += 15) {
          const page = await list(app, staff, { sort, order, limit: 15, offset });
          assert.equal(page.count, 40);
          paged.push(...page.results.map((f) => f.id));
        }
        assert.deepEqual(paged, whole, `${sort} ${order}: pages join up to the whole list`);
      }
    }
  });

  test('search by original or generated name (case-insensitive, wildcards literal), filters by state and uploader, combined', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    const alice = await createUser(app);
    const bob = await createUser(app);
    await seed(app, [alice.id, bob.id]);
    const all = (await list(app, staff, { limit: 200 })).results;

    const report = await list(app, staff, { search: 'REPORT', limit: 200 });
    assert.deepEqual(
      report.results.map((f) => f.id).sort(),
      all
        .filter((f) => /report/i.test(f.original_file_name))
        .map((f) => f.id)
        .sort(),
    );
    assert.equal(report.count, 10);

    const generated = all[3]!.file_name.slice(20, 34);
    const byGenerated = await list(app, staff, { search: generated });
    assert.deepEqual(
      byGenerated.results.map((f) => f.id),
      [all[3]!.id],
      'the generated name is searched too',
    );

    const percent = await list(app, staff, { search: '100%' });
    assert.equal(percent.count, 5, '% matches itself only');
    assert.ok(percent.results.every((f) => f.original_file_name === 'data_100%.csv'));
    const underscore = await list(app, staff, { search: 'o_o' });
    assert.equal(underscore.count, 0, '_ matches itself only');

    const pending = await list(app, staff, { status: 'pending', limit: 200 });
    assert.equal(pending.count, 8);
    assert.ok(pending.results.every((f) => !f.is_valid && f.url === null && f.upload_finished_at === null));
    const valid = await list(app, staff, { status: 'valid', limit: 200 });
    assert.equal(valid.count, 32);
    assert.ok(valid.results.every((f) => f.is_valid && f.url));

    const bobs = await list(app, staff, { uploaded_by: bob.id, limit: 200 });
    assert.equal(bobs.count, 20);
    assert.ok(bobs.results.every((f) => f.uploaded_by === bob.id && f.uploaded_by_email === bob.email));

    const combined = await list(app, staff, {
      uploaded_by: alice.id,
      status: 'valid',
      search: '.pdf',
      sort: 'file_size',
      order: 'asc',
    });
    const expected = all.filter(
      (f) => f.uploaded_by === alice.id && f.is_valid && f.original_file_name.includes('.pdf'),
    );
    assert.equal(combined.count, expected.length);
    assert.deepEqual(
      combined.results.map((f) => f.id),
      expected.sort((a, b) => a.file_size! - b.file_size! || a.id - b.id).map((f) => f.id),
    );
  });

  test('a search looks at generated names only when the term could match one and not the original name', () => {
    for (const term of ['3f2c', '3F2C', '.pdf', 'a.pdf', '0123456789abcdef0123456789abcdef.txt'])
      assert.equal(searchesGeneratedName(term), true, term);
    // starts past the hex digits (so inside the extension, which the original has too), or has characters no generated name has
    for (const term of ['pdf', 'report', 'zzz', 'annual report', 'data_100%', 'a-b', 'é'])
      assert.equal(searchesGeneratedName(term), false, term);
  });

  test('bad parameters are 400 with the field named; the limit is capped', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    for (const query of [
      'sort=password_hash',
      'sort=id;drop table chute_files',
      'order=up',
      'status=done',
      'limit=-1',
      'offset=x',
      'uploaded_by=me',
      'unknown=1',
    ]) {
      const response = await app.inject({ method: 'GET', url: `/api/admin/files/?${query}`, headers: staff.headers });
      assert.equal(response.statusCode, 400, `${query}: ${response.body}`);
      assert.equal(response.json().code, 'validation_failed');
    }
    const capped = await app.inject({ method: 'GET', url: '/api/admin/files/?limit=5000', headers: staff.headers });
    assert.equal(capped.json().limit, 200);
  });

  test("SQLite: a started upload enters none of the list's sort indexes, which hold valid files only", async (t) => {
    const app = await build(t);
    const { rows } = usingPostgres
      ? await sql<{ name: string; definition: string }>`select indexname as name, indexdef as definition
          from pg_indexes where tablename = 'chute_files'`.execute(app.chute.db)
      : await sql<{ name: string; definition: string | null }>`select name, sql as definition from sqlite_master
          where type = 'index' and tbl_name = 'chute_files'`.execute(app.chute.db);
    // the table's own: the primary key, the unique name, the owner's list, stale pending, multipart ids
    const own = /_pkey$|_key$|^sqlite_autoindex_|_uploaded_by_id$|_pending_created$|_upload_id$|_pending_event$/;
    const sorts = rows.filter((row) => !own.test(row.name));
    const partial = (row: { definition: string | null }) => / where /i.test(row.definition ?? '');
    if (usingPostgres) {
      // PostgreSQL keeps full indexes: its planner sorted the whole table rather than merge partial ones
      assert.equal(sorts.length, 6, sorts.map((row) => row.name).join(', '));
      assert.ok(!sorts.some(partial));
    } else {
      assert.deepEqual(
        sorts.map((row) => row.name).sort(),
        ['created_at', 'file_size', 'file_type', 'id', 'original_file_name', 'upload_finished_at'].map(
          (column) => `chute_files_valid_${column}`,
        ),
      );
      assert.ok(
        sorts.every((row) => /where \(upload_finished_at is not null\) = 1$/i.test(row.definition!)),
        sorts.map((row) => row.definition).join('\n'),
      );
    }
  });

  test('migration 0011 goes back to the full indexes and forward again; the list sorts either way', async (t) => {
    const app = await build(t);
    const staff = await createUser(app, { staff: true });
    await seed(app, [staff.id]);
    const bySize = async () => (await list(app, staff, { sort: 'file_size', order: 'desc', limit: 200 })).results;
    const before = (await bySize()).map((f) => f.id);
    await m0011.down(app.chute.db);
    assert.deepEqual(
      (await bySize()).map((f) => f.id),
      before,
    );
    await m0011.up(app.chute.db);
    assert.deepEqual(
      (await bySize()).map((f) => f.id),
      before,
    );
  });
});
