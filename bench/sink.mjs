// The ceiling: a minimal node http server that reads and discards every request body and
// answers a small JSON; POST /file writes the body to a temp file instead (then removes it), to
// tell the disk's share from the server's. POST /webhooks is also counted (GET /webhooks/count).
// Run as its own process: `node bench/sink.mjs` prints {"port": N} on stdout.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

let files = 0;
// webhook deliveries (POST /webhooks): how many arrived, and under how many distinct webhook-ids
let webhooks = 0;
const webhookIds = new Set();
const answer = (response, status, body) => {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
};

const server = createServer((request, response) => {
  if (request.url === '/webhooks/count') {
    answer(response, 200, { received: webhooks, distinct: webhookIds.size });
    return;
  }
  if (request.url === '/webhooks') {
    webhooks++;
    webhookIds.add(request.headers['webhook-id']);
  }
  let bytes = 0;
  request.on('data', (chunk) => (bytes += chunk.length));
  if (request.url === '/file') {
    const path = join(tmpdir(), `chute-bench-sink-${process.pid}-${files++}`);
    pipeline(request, createWriteStream(path))
      .then(
        () => answer(response, 200, { id: 1, bytes }),
        (error) => answer(response, 500, { error: String(error) }),
      )
      .finally(() => rm(path, { force: true }));
    return;
  }
  request.on('end', () => answer(response, 200, { id: 1, bytes }));
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// never outlive the bench that started it
process.on('disconnect', () => process.exit(0));
