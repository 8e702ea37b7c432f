// Shared by the Chromium tests: the web app build (rebuilt when older than its sources), Chromium
// through playwright-core with a throwaway profile, signing in through the page, and a cleanup
// scope for describe-level hooks.
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium), CHUTE_WEB_BUILT=1 never rebuilds web/dist.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import type { TestUser } from '../helpers.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const S3_SKIP = process.env.S3_ENDPOINT
  ? false
  : 'S3_ENDPOINT is not set (`npm test -- --browser` starts a local RGW)';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds web/dist when missing, or older than web/src or the client library (unless CHUTE_WEB_BUILT=1). */
export function ensureWebBuilt(): void {
  const built = join(ROOT, 'web/dist/index.html');
  const sources = () =>
    Math.max(
      newestMtime(join(ROOT, 'web/src')),
      newestMtime(join(ROOT, 'packages/client/src')),
      ...['web/index.html', 'web/vite.config.ts'].map((f) => statSync(join(ROOT, f)).mtimeMs),
    );
  if (!existsSync(built) || (process.env.CHUTE_WEB_BUILT !== '1' && statSync(built).mtimeMs < sources())) {
    execFileSync('npm', ['run', 'build', '-w', '@chute/web'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Chromium with a fresh profile. Functions given to page.evaluate run in the page and reach its
 * globals through inPage() (declared per test file, loosely typed, so tests type-check with or
 * without the DOM lib); tsx compiles with esbuild's keepNames, so they call __name() too.
 */
export async function launch({
  acceptDownloads = false,
  viewport = { width: 1100, height: 820 },
} = {}): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'chute-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    acceptDownloads,
  });
  await context.addInitScript({ content: 'globalThis.__name = (fn) => fn; globalThis.inPage = () => globalThis;' });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in on the web app's sign-in page, already open. */
export async function signIn(page: Page, user: Pick<TestUser, 'email' | 'password'>): Promise<void> {
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('current-user').waitFor();
}

/** node:test's describe-level after() cannot be added from inside a hook: collect cleanups here (run last-added first). */
export function cleanupScope() {
  const cleanups: Array<() => unknown> = [];
  const scope = { after: (fn: () => unknown) => void cleanups.push(fn) } as unknown as Pick<TestContext, 'after'>;
  const run = async () => {
    for (const fn of cleanups.reverse()) await fn();
  };
  return { scope, run };
}

/** The page's globals (see launch()); loosely typed so that this file needs no DOM lib. */
declare function inPage(): any;

/** test-artifacts/ for screenshots, with the last run's `<prefix>-*.png` removed. */
export function artifactsFor(prefix: string): string {
  const dir = join(ROOT, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir)) if (old.startsWith(`${prefix}-`) && old.endsWith('.png')) rmSync(join(dir, old));
  return dir;
}

let axeSource: string | undefined;

/** Runs axe-core (WCAG 2.1 A/AA and best practices) on the page as it is; fails on any violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // page.evaluate is not subject to the page's CSP, unlike an injected <script>
  await page.evaluate(axeSource);
  const violations: string[] = await page.evaluate(async () => {
    const result = await inPage().axe.run(inPage().document, {
      runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'],
    });
    return result.violations.map(
      (v: { id: string; help: string; nodes: Array<{ target: string[] }> }) =>
        `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
    );
  });
  assert.deepEqual(violations, [], `${what}: accessibility violations`);
}

/** Slows the page's uploads to `bytesPerSecond` (null: no limit) through the DevTools protocol. */
export async function throttleUpload(cdp: CDPSession, bytesPerSecond: number | null): Promise<void> {
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond ?? -1,
  });
}

/** A file on disk for the page's file picker, with what the upload must give back. */
export interface Fixture {
  name: string;
  path: string;
  size: number;
  sha256: string;
}

/** A temp folder (removed after the test file) and the function that writes fixtures into it. */
export function fixtureFolder(prefix: string): (name: string, content: Buffer) => Fixture {
  const dir = mkdtempSync(join(tmpdir(), `chute-${prefix}-files-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return (name, content) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return { name, path, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
  };
}

/** SHA-256 (hex) of what the page gets from `url`, fetched by the page itself (its cookies, its origin). */
export const sha256InPage = (page: Page, url: string): Promise<string> =>
  page.evaluate(async (href) => {
    const response = await fetch(href);
    if (!response.ok) throw new Error(`GET ${href} -> ${response.status}`);
    const digest: ArrayBuffer = await inPage().crypto.subtle.digest('SHA-256', await response.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  }, url);
