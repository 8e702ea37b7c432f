/// <reference types="node" />
// @chute/client/checksums for Node: the same API with node:crypto (OpenSSL), several times faster
// than WebAssembly there. Chosen through the "node" condition of the package's exports.
import { createHash } from 'node:crypto';
import { Worker as Thread } from 'node:worker_threads';
import type { Checksums, ChecksumsFactory } from '../types.js';
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
export const exposeChecksums = (scope: ChecksumsScope = globalThis as unknown as ChecksumsScope): void =>
  serveChecksums(scope, createChecksums);

// The thread's whole program, run as an eval'd script: nothing to resolve, so Node apps that
// bundle this package need no extra file. It gets bytes, not Blobs: Node 20 aborts reading a
// file-backed Blob (fs.openAsBlob) that was posted to a thread.
const THREAD = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const sha256 = createHash('sha256');
const md5s = new Map();
parentPort.on('message', ({ id, chunk, end }) => {
  if (chunk) {
    if (!md5s.has(id)) md5s.set(id, createHash('md5'));
    md5s.get(id).update(chunk);
    sha256.update(chunk);
  } else if (end) {
    const md5 = md5s.get(id) || createHash('md5');
    md5s.delete(id);
    parentPort.postMessage({ id, value: md5.digest('base64') });
  } else {
    parentPort.postMessage({ id, value: sha256.digest('hex') });
  }
});`;

/** A chunk that is the whole of its buffer (as a Blob's reader gives them) is moved, not copied. */
const ownsBuffer = (chunk: Uint8Array) => chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;

/**
 * Checksums on a worker thread, one per upload and ended with it: the hashing runs beside the
 * sending where a core is free. Parts are read here and their bytes moved to the thread in
 * order. `checksums: threadChecksums()`.
 */
export function threadChecksums(): ChecksumsFactory {
  return () => {
    const thread = new Thread(THREAD, { eval: true });
    const pending = new Map<number, [resolve: (value: string) => void, reject: (error: Error) => void]>();
    let failed: Error | undefined;
    let seq = 0;
    const fail = (error: Error) => {
      failed ??= error;
      for (const [, reject] of pending.values()) reject(failed);
      pending.clear();
    };
    thread.on('message', ({ id, value }: { id: number; value: string }) => {
      pending.get(id)?.[0](value);
      pending.delete(id);
    });
    thread.on('error', (error) => fail(new Error(`The checksum thread failed: ${error.message}`)));
    thread.on('exit', (code) => fail(new Error(`The checksum thread exited (code ${code})`)));
    const answer = (id: number) =>
      new Promise<string>((resolve, reject) => (failed ? reject(failed) : pending.set(id, [resolve, reject])));
    return {
      async part(data) {
        const id = ++seq;
        const value = answer(id);
        // one part at a time reaches the thread whole: the SHA-256 takes the parts in order
        await readChunks(data, (chunk) =>
          thread.postMessage({ id, chunk }, ownsBuffer(chunk) ? [chunk.buffer as ArrayBuffer] : []),
        );
        thread.postMessage({ id, end: true });
        return value;
      },
      digest() {
        const id = ++seq;
        const value = answer(id);
        thread.postMessage({ id });
        return value;
      },
      close: () => void thread.terminate(),
    } satisfies Checksums;
  };
}
