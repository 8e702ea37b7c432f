import type { FetchTransfer } from './transport.js';

/** The most bytes fetch is handed at once, so that progress (and the stall timer) move as they go. */
const STEP = 65536;

/**
 * Node's transport: fetch, with the body as a stream that hands fetch at most 64 KiB each time it
 * pulls, counted then: it pulls as the connection takes the bytes (a Blob it would read ahead whole,
 * so its bytes would say nothing about the connection). The chunks are views of what the Blob's one
 * reader gives, never copies: a file-backed Blob from `fs.openAsBlob` is read from disk as it goes
 * (a `slice().arrayBuffer()` per 64 KiB, as before, cost 14-16 s of CPU per GiB sent, a quarter of
 * it GC, and ran 1 GiB multipart at 64-71 MB/s; this way ~4 s and 95-109 MB/s). A FormData (a
 * single-request upload) is made a Blob first.
 */
export const fetchTransfer: FetchTransfer = async (method, url, body, options, signal, progress) => {
  if (body instanceof FormData) body = await new Response(body).blob();
  const { size, type } = body;
  const reader = body.stream().getReader();
  let chunk = new Uint8Array(0);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        while (!chunk.byteLength) {
          const read = await reader.read();
          if (read.done) return controller.close();
          chunk = read.value;
        }
        const piece = chunk.subarray(0, STEP);
        chunk = chunk.subarray(piece.byteLength);
        controller.enqueue(piece);
        progress((sent += piece.byteLength), size);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 }, // pulled only when fetch asks
  );
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method,
      body: stream,
      // a stream has no length of its own: S3 wants one (it refuses chunked encoding)
      headers: { ...(type && { 'Content-Type': type }), ...options.headers, 'Content-Length': `${size}` },
      duplex: 'half', // a stream body needs it
      signal,
      credentials: options.withCredentials ? 'include' : 'omit',
    } as RequestInit);
    // an answer cut off while its body is read is no answer either (rejects)
    return { status: response.status, body: await response.text(), etag: response.headers.get('etag') };
  } finally {
    // an answer before the last byte, or a failure, leaves the file's reader open otherwise
    reader.cancel().catch(() => {});
  }
};
