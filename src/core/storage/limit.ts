import { Transform, type TransformCallback } from 'node:stream';
import { fileTooLarge } from '../../errors.js';

/** Passes bytes through, counting them, and fails the stream the moment maxSize is passed. */
export class ByteLimiter extends Transform {
  bytes = 0;
  constructor(private readonly maxSize: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxSize) callback(fileTooLarge(this.maxSize));
    else callback(null, chunk);
  }
}
