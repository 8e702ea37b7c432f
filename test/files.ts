// Big test files without holding them in memory: random bytes streamed to disk and hashed on the
// way, and downloads hashed as they stream in.
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream } from 'node:fs';

const CHUNK = 4 * 2 ** 20;

/** Writes `size` random bytes to `path`; resolves with their SHA-256 (hex). */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; ) {
    const chunk = randomFillSync(Buffer.allocUnsafe(Math.min(CHUNK, size - written)));
    hash.update(chunk);
    written += chunk.length;
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return hash.digest('hex');
}

/** SHA-256 (hex) of what `url` answers, which must be a 200. */
export async function sha256OfUrl(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  const hash = createHash('sha256');
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}
