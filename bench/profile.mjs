#!/usr/bin/env node
// Summary of a V8 .cpuprofile (from `node --cpu-prof`): where the time went, by frame (self and
// inclusive) and by package. `BENCH_CPU_PROF=1 npm run bench` writes one per server; or
//   node bench/profile.mjs <file.cpuprofile> [top] [skip-ms]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function packageOf({ functionName, url }) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/src/')) return 'chute src/';
  return url;
}

const whereOf = ({ url, lineNumber }) => {
  if (!url) return '';
  const path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url;
  return `${path}:${lineNumber + 1}`;
};

/** `skipMs`: leave out the first milliseconds of the profile (the server's start: module loading). */
export function summarize(profile, top = 25, skipMs = 0) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map();
  let total = 0;
  let idle = 0;
  let clock = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    clock += profile.timeDeltas[i] ?? 0;
    if (clock < skipMs * 1000) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
    if (byId.get(id)?.callFrame.functionName === '(idle)') idle += dt;
  }
  const busy = total - idle || 1;
  const keyOf = (frame) => `${frame.functionName || '(anonymous)'}\u0000${whereOf(frame)}`;
  const self = new Map();
  const inclusive = new Map();
  const packages = new Map();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') continue;
    self.set(keyOf(frame), (self.get(keyOf(frame)) ?? 0) + us);
    packages.set(packageOf(frame), (packages.get(packageOf(frame)) ?? 0) + us);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at).callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const pct = (us) => Math.round((us / busy) * 1000) / 10;
  const list = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => {
        const [name, where] = key.split('\u0000');
        return { name, where, pct: pct(us), ms: Math.round(us / 1000) };
      });
  return {
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    top: list(self, top),
    inclusive: list(inclusive, top * 2).filter((f) => !f.name.startsWith('(')),
    byPackage: [...packages]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, pct: pct(us), ms: Math.round(us / 1000) })),
  };
}

export const summarizeFile = (file, top, skipMs) => summarize(JSON.parse(readFileSync(file, 'utf8')), top, skipMs);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top = '25', skip = '0'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile.mjs <file.cpuprofile> [top] [skip-ms]');
    process.exit(2);
  }
  const s = summarizeFile(file, Number(top), Number(skip));
  console.log(`busy ${s.busyMs} ms, idle ${s.idleMs} ms (percentages are of busy time)\n\nby package (self):`);
  for (const p of s.byPackage.slice(0, 15)) console.log(`  ${String(p.pct).padStart(5)}%  ${p.name}`);
  console.log('\ntop frames (self):');
  for (const f of s.top) console.log(`  ${String(f.pct).padStart(5)}%  ${f.name}  ${f.where}`);
  console.log('\ntop frames (inclusive):');
  for (const f of s.inclusive.slice(0, Number(top)))
    console.log(`  ${String(f.pct).padStart(5)}%  ${f.name}  ${f.where}`);
}
