#!/usr/bin/env node
// `npm test`: every test file through node's test runner (TypeScript via tsx). The S3 tests need a
// real S3 server: unless S3_ENDPOINT points at one, a throwaway Ceph RGW is started for the run.
//   node scripts/run-tests.mjs [--browser] [file ...]
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalS3 } from './local-s3/index.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const browser = args.includes('--browser');
const explicit = args.filter((arg) => !arg.startsWith('--'));

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.test\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .filter((path) => !path.includes('node_modules'));
}

const files = explicit.length
  ? explicit
  : browser
    ? findTests(join(root, 'test/browser'))
    : [
        ...findTests(join(root, 'src')),
        ...findTests(join(root, 'test')).filter((f) => !f.includes('/test/browser/')),
        ...findTests(join(root, 'packages/client/test')),
      ];

// a DATABASE_URL the suite cannot place would quietly run "the PostgreSQL run" on SQLite
const databaseUrl = process.env.DATABASE_URL ?? '';
if (databaseUrl && !/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) {
  process.stderr.write(
    `DATABASE_URL must be sqlite:<path> or postgres://..., got ${JSON.stringify(databaseUrl.replace(/:[^:@/]*@/, ':***@'))}\n`,
  );
  process.exit(2);
}

// the web app's pages are tested too (headers, browser runs): build it when missing or stale
const build = spawnSync(process.execPath, [join(root, 'scripts/ensure-web-build.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

let s3;
if (!process.env.S3_ENDPOINT) {
  process.stderr.write('starting a local Ceph RGW for the S3 tests (scripts/local-s3)...\n');
  s3 = await startLocalS3();
  Object.assign(process.env, {
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKeyId,
    S3_SECRET_KEY: s3.secretAccessKey,
  });
}

const db = databaseUrl.startsWith('postgres') ? 'PostgreSQL' : 'SQLite';
process.stdout.write(`running ${files.length} test files on ${db}, S3 at ${process.env.S3_ENDPOINT}\n`);
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${browser ? 1 : 2}`,
    ...files.map((f) => relative(root, f)),
  ],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
);
// the runner's closing lines ("ℹ pass N") are the last of its output; keep enough to find them
let tail = '';
// the reliability suite's counts (cases tried, faults injected, uploads checked), said again at the end
const counts = [];
// the spec reporter's closing "✖ failing tests:" section, kept whole for CI to repeat at its end
let failures = '';
let partial = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk).slice(-64_000);
  const lines = (partial + chunk).split('\n');
  partial = lines.pop() ?? '';
  counts.push(...lines.filter((line) => /^(bad-input corpus|faults injected|load): /.test(line)));
  for (const line of lines) {
    if (failures || line.startsWith('✖ failing tests:')) failures += `${line}\n`;
  }
});
const code = await new Promise((resolve) => child.on('close', (exit, signal) => resolve(exit ?? (signal ? 1 : 0))));
await s3?.stop();

const count = (label) => Number([...tail.matchAll(new RegExp(`^ℹ ${label} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? 0);
const [passed, failed] = [count('pass'), count('fail') + count('cancelled')];
if (process.env.TEST_SUMMARY_FILE) appendFileSync(process.env.TEST_SUMMARY_FILE, `${passed} ${failed}\n`);
if (process.env.TEST_FAILURES_FILE && failures) {
  appendFileSync(process.env.TEST_FAILURES_FILE, `--- ${browser ? 'browser' : db} run ---\n${failures}${partial}\n`);
}
if (counts.length) process.stdout.write(`reliability suite:\n${counts.map((line) => `  ${line}\n`).join('')}`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(code !== 0 ? code : passed === 0 ? 1 : 0);
