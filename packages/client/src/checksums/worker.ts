import type { Checksums, ChecksumsFactory } from '../types.js';

/** The side of a worker that `workerChecksums` talks to (a DedicatedWorkerGlobalScope, or a stand-in). */
export interface ChecksumsScope {
  onmessage: ((event: MessageEvent<{ id: number; data?: Blob }>) => unknown) | null;
  postMessage(message: { id: number; value?: string; error?: string }): void;
}

/**
 * Checksums computed in a Web Worker, so that reading and hashing the file never blocks the page:
 * one worker per upload, made by `createWorker`, terminated when the upload ends. The worker's
 * script calls `exposeChecksums(self)`.
 *
 *   checksums: workerChecksums(() => new Worker(new URL('./checksums.worker.ts', import.meta.url), { type: 'module' }))
 */
export function workerChecksums(createWorker: () => Worker): ChecksumsFactory {
  return () => {
    const worker = createWorker();
    const pending = new Map<number, [resolve: (value: string) => void, reject: (error: Error) => void]>();
    let failed: Error | undefined;
    let seq = 0;
    const fail = (error: Error) => {
      failed = error;
      for (const [, reject] of pending.values()) reject(error);
      pending.clear();
    };
    worker.onmessage = ({ data }: MessageEvent<{ id: number; value?: string; error?: string }>) => {
      const [resolve, reject] = pending.get(data.id) ?? [];
      pending.delete(data.id);
      if (data.error === undefined) resolve?.(data.value!);
      else reject?.(new Error(data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      fail(new Error(`The checksum worker failed: ${event.message || 'it could not start'}`));
    };
    const call = (data?: Blob) =>
      new Promise<string>((resolve, reject) => {
        if (failed) return reject(failed);
        pending.set(++seq, [resolve, reject]);
        worker.postMessage({ id: seq, data });
      });
    return { part: call, digest: () => call(), close: () => worker.terminate() } satisfies Checksums;
  };
}

/** Serves `workerChecksums` from inside a worker with the checksums `create` makes (one set per worker). */
export function serveChecksums(scope: ChecksumsScope, create: ChecksumsFactory): void {
  let checks: Promise<Checksums> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  scope.onmessage = ({ data: { id, data } }) =>
    (queue = queue.then(async () => {
      try {
        const c = await (checks ??= Promise.resolve(create()));
        scope.postMessage({ id, value: await (data ? c.part(data) : c.digest()) });
      } catch (error) {
        scope.postMessage({ id, error: String((error as Error)?.message ?? error) });
      }
    }));
}

/** Feeds a Blob to `update` chunk by chunk, never holding more than one chunk. */
export async function readChunks(blob: Blob, update: (chunk: Uint8Array) => void): Promise<void> {
  const reader = blob.stream().getReader();
  for (let chunk: ReadableStreamReadResult<Uint8Array>; !(chunk = await reader.read()).done; ) update(chunk.value);
}

export const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
