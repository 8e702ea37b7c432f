// @chute/client for the Node tests: its TypeScript sources run through tsx (no build needed to
// test a change), typed by the declarations the package builds (`npm run build -w @chute/client`,
// which typecheck runs first). The sources are written against the DOM lib, which the root
// tsconfig leaves out, so they are loaded by a URL the compiler does not follow.
import type * as ClientModule from '@chute/client';
import type * as NodeChecksums from '@chute/client/checksums';

const SOURCES = new URL('../packages/client/src/', import.meta.url);

// node.ts: the entry Node gets (index.ts with the fetch transport)
export const client = (await import(new URL('node.ts', SOURCES).href)) as typeof ClientModule;
export const { createChecksums, threadChecksums } = (await import(
  new URL('checksums/node.ts', SOURCES).href
)) as typeof NodeChecksums;
export type { FileRecord, RetryInfo, UploadOptions } from '@chute/client';
