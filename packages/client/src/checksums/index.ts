// @chute/client/checksums: Content-MD5 of each part and the whole file's SHA-256 for multipart
// uploads, streamed through hash-wasm (WebCrypto has neither MD5 nor a streaming SHA-256).
// Node resolves this entry to ./node.ts (node:crypto, several times faster), same exports.
import { createMD5, createSHA256 } from 'hash-wasm';
import type { Checksums } from '../types.js';
import { readChunks, serveChecksums, toBase64, type ChecksumsScope } from './worker.js';

export { workerChecksums, serveChecksums, type ChecksumsScope } from './worker.js';

/** Checksums on this thread (a worker's, or Node's): pass as `checksums: createChecksums`. */
export async function createChecksums(): Promise<Checksums> {
  const [md5, sha256] = await Promise.all([createMD5(), createSHA256()]);
  sha256.init();
  return {
    async part(data) {
      md5.init();
      await readChunks(data, (chunk) => {
        md5.update(chunk);
        sha256.update(chunk);
      });
      return toBase64(md5.digest('binary'));
    },
    digest: async () => sha256.digest('hex'),
  };
}

/** In a worker's script: answers `workerChecksums` on the page. */
export const exposeChecksums = (scope: ChecksumsScope = self as unknown as ChecksumsScope): void =>
  serveChecksums(scope, createChecksums);
