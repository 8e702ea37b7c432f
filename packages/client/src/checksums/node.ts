/// <reference types="node" />
// @chute/client/checksums for Node: the same API with node:crypto (OpenSSL), several times faster
// than WebAssembly there. Chosen through the "node" condition of the package's exports.
import { createHash } from 'node:crypto';
import type { Checksums } from '../types.js';
import { readChunks, serveChecksums, type ChecksumsScope } from './worker.js';

export { workerChecksums, serveChecksums, type ChecksumsScope } from './worker.js';

/** Checksums on this thread: pass as `checksums: createChecksums`. */
export async function createChecksums(): Promise<Checksums> {
  const sha256 = createHash('sha256');
  return {
    async part(data) {
      const md5 = createHash('md5');
      await readChunks(data, (chunk) => {
        md5.update(chunk);
        sha256.update(chunk);
      });
      return md5.digest('base64');
    },
    digest: async () => sha256.digest('hex'),
  };
}

/** In a worker's script: answers `workerChecksums`. */
export const exposeChecksums = (scope: ChecksumsScope = globalThis as unknown as ChecksumsScope): void => serveChecksums(scope, createChecksums);
