#!/usr/bin/env node
// Before `npm start`: build the web app (and the client library it uses) when web/dist is
// missing or older than their sources, so a fresh clone serves the app without a build step to remember.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'web/dist/index.html');

const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((latest, entry) => Math.max(latest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs), 0);

const sources = ['web/src', 'web/index.html', 'packages/client/src'].map((path) => join(root, path));
const sourceTime = Math.max(
  ...sources.map((path) => (statSync(path).isDirectory() ? newest(path) : statSync(path).mtimeMs)),
);
if (existsSync(built) && statSync(built).mtimeMs >= sourceTime) process.exit(0);

console.log('building the web app (web/dist)...');
const result = spawnSync('npm', ['run', 'build:web'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
