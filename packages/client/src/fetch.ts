import type { FetchTransfer } from './transport.js';

/**
 * Node's transport: fetch, with the body as a stream of 64 KiB slices, each counted when fetch
 * pulls it, which it does as the connection takes the bytes (a Blob it would read ahead whole, so
 * its bytes would say nothing about the connection). A file-backed Blob from `fs.openAsBlob` is
 * read from disk as it goes; a FormData (a single-request upload) is made a Blob first.
 */
export const fetchTransfer: FetchTransfer = async (method, url, body, options, signal, progress) => {
  if (body instanceof FormData) body = await new Response(body).blob();
  const { size, type } = body;
  const blob = body;
  let sent = 0;
  const response = await (options.fetch ?? fetch)(url, {
    method,
    // Node's fetch takes an async iterable (with duplex: 'half')
    body: (async function* () {
      while (sent < size) {
        yield new Uint8Array(await blob.slice(sent, (sent += 65536)).arrayBuffer());
        progress(Math.min(sent, size), size);
      }
    })() as unknown as BodyInit,
    // a stream has no length of its own: S3 wants one (it refuses chunked encoding)
    headers: { ...(type && { 'Content-Type': type }), ...options.headers, 'Content-Length': `${size}` },
    duplex: 'half',
    signal,
    credentials: options.withCredentials ? 'include' : 'omit',
  } as RequestInit);
  // an answer cut off while its body is read is no answer either (rejects)
  return { status: response.status, body: await response.text(), etag: response.headers.get('etag') };
};
