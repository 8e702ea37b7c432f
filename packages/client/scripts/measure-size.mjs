#!/usr/bin/env node
// Bundles the public entry (src/index.ts) minified for the browser, as an app would ship it,
// and prints the min and min+gzip sizes in bytes. Exits 1 when min+gzip exceeds the budget.
// Also measures the optional `@chute/client/checksums` entry (hash-wasm: not in the budget).
//   node scripts/measure-size.mjs [--budget 5000] [--json]
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const budgetAt = args.indexOf('--budget');
const budget = budgetAt >= 0 ? Number(args[budgetAt + 1]) : 5000;
const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
const checksums = fileURLToPath(new URL('../src/checksums/index.ts', import.meta.url));

async function measure(contents) {
  const result = await build({
    stdin: { contents, resolveDir: fileURLToPath(new URL('../src/', import.meta.url)), loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    treeShaking: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

// everything the entry exports, kept alive so nothing is shaken off
const all = await measure(`export * from ${JSON.stringify(entry)};`);
// what an app that only uploads pays
const uploadOnly = await measure(`import { uploadFile } from ${JSON.stringify(entry)}; window.__u = uploadFile;`);
// the optional entry: what a checksum worker's script weighs, and what the page pays to talk to it
const checksumWorker = await measure(
  `import { exposeChecksums } from ${JSON.stringify(checksums)}; exposeChecksums(self);`,
);
const checksumPage = await measure(
  `import { workerChecksums } from ${JSON.stringify(checksums)}; window.__w = workerChecksums;`,
);

if (args.includes('--json')) {
  console.log(JSON.stringify({ all, uploadOnly, checksumWorker, checksumPage, budget }));
} else {
  console.log(`@chute/client, whole public API: ${all.min} B minified, ${all.gzip} B min+gzip`);
  console.log(`@chute/client, uploadFile only:  ${uploadOnly.min} B minified, ${uploadOnly.gzip} B min+gzip`);
  console.log(`budget: ${budget} B min+gzip -> ${all.gzip <= budget ? 'OK' : 'OVER'}`);
  console.log(
    `@chute/client/checksums, worker script (hash-wasm MD5 + SHA-256): ${checksumWorker.min} B minified, ${checksumWorker.gzip} B min+gzip`,
  );
  console.log(
    `@chute/client/checksums, page side (workerChecksums): ${checksumPage.min} B minified, ${checksumPage.gzip} B min+gzip`,
  );
}
process.exitCode = all.gzip <= budget ? 0 : 1;
