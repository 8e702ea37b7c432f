// Bundles the test page (main.ts + Uppy's CSS) with esbuild into a temp folder and serves it on a
// free port of 127.0.0.1: a page on its own origin, cross-origin to Chute and to the bucket.
import { readFile, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface UppyPage {
  origin: string;
  /** bundle size in bytes (main.js + main.css) and build time in ms */
  stats: { bytes: number; ms: number };
  close(): Promise<void>;
}

export async function serveUppyPage(): Promise<UppyPage> {
  const dir = await mkdtemp(join(tmpdir(), 'chute-uppy-page-'));
  const started = performance.now();
  const result = await build({
    entryPoints: { main: join(HERE, 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outdir: dir,
    minify: true,
    metafile: true,
    logLevel: 'error',
  });
  await copyFile(join(HERE, 'index.html'), join(dir, 'index.html'));
  const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
  const ms = Math.round(performance.now() - started);

  const server = createServer(async (request, response) => {
    const name = new URL(request.url ?? '/', 'http://page').pathname.replace(/^\/$/, '/index.html').slice(1);
    if (!/^[a-z]+\.(html|js|css)$/.test(name)) return void response.writeHead(404).end();
    try {
      const body = await readFile(join(dir, name));
      response.writeHead(200, { 'content-type': TYPES[extname(name)]!, 'cache-control': 'no-store' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stats: { bytes, ms },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
