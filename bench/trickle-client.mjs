// Child process of the "trickle" section: N clients each start a direct upload, then send its
// multipart body to the local upload URL at a fixed slow rate, like browsers on slow links.
// Its own process, so that its timers do not share an event loop with the load generator.
//   fork('bench/trickle-client.mjs', [JSON.stringify({ baseUrl, auth, clients, bytesPerSecond, seconds })])
// Messages to the parent: {type:'ready'} once every upload is under way, then {type:'result', ...}.
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { multipartFrame } from './http.mjs';
import { mapLimit, percentiles, round } from './lib.mjs';

const { baseUrl, auth, clients, bytesPerSecond, seconds, rampMs = 1000, tickMs = 125 } = JSON.parse(process.argv[2]);
const perTick = Math.round((bytesPerSecond * tickMs) / 1000);
const fileBytes = perTick * Math.round((seconds * 1000) / tickMs);
const chunk = randomBytes(perTick);
const hardDeadline = Date.now() + (seconds + 40) * 1000;

const errors = [];
const statuses = {};
const afterLastByteMs = [];
const note = (what) => errors.length < 10 && errors.push(what);
let finished = false;
process.on('disconnect', () => process.exit(finished ? 0 : 1)); // never outlive the bench

// 1. the records, through start (bounded concurrency)
const started = await mapLimit(Array.from({ length: clients }), 20, async () => {
  const response = await fetch(`${baseUrl}/api/files/upload/direct/start/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ file_name: 'slow.bin', file_type: 'application/octet-stream' }),
  });
  if (response.status !== 200) throw new Error(`start: ${response.status} ${await response.text()}`);
  return response.json();
});

// 2. the uploads, opened over `rampMs`, fed by one shared ticker
const active = new Set();
const uploads = started.map(
  ({ url }, index) =>
    new Promise((resolve) => {
      setTimeout(
        () => {
          const frame = multipartFrame({ fileName: 'slow.bin' });
          const upload = { sent: 0, endedAt: 0, req: null };
          const req = request(url, {
            method: 'POST',
            agent: false,
            headers: {
              ...auth,
              'content-type': frame.contentType,
              'content-length': String(frame.head.length + fileBytes + frame.tail.length),
            },
          });
          upload.req = req;
          upload.tail = frame.tail;
          req.on('error', (error) => {
            active.delete(upload);
            note(`upload ${index}: ${error.code ?? error.message}`);
            statuses.error = (statuses.error ?? 0) + 1;
            resolve(false);
          });
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => {
              active.delete(upload);
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              if (upload.endedAt) afterLastByteMs.push(performance.now() - upload.endedAt);
              if (res.statusCode !== 200) note(`upload ${index}: HTTP ${res.statusCode}`);
              resolve(res.statusCode === 200);
            });
          });
          req.write(frame.head);
          active.add(upload);
        },
        Math.round((index * rampMs) / clients),
      );
    }),
);

const ticker = setInterval(() => {
  for (const upload of active) {
    if (upload.endedAt) continue;
    upload.req.write(chunk);
    upload.sent += chunk.length;
    if (upload.sent >= fileBytes) {
      upload.req.end(upload.tail);
      upload.endedAt = performance.now();
    }
  }
  if (Date.now() > hardDeadline) {
    for (const upload of active) upload.req.destroy(new Error('trickle deadline passed'));
  }
}, tickMs);

setTimeout(() => process.send({ type: 'ready', fileBytes }), rampMs + tickMs);

const t0 = performance.now();
const results = await Promise.all(uploads);
clearInterval(ticker);
const lat = percentiles(afterLastByteMs);
process.send({
  type: 'result',
  clients,
  fileBytes,
  bytesPerSecond,
  ok: results.filter(Boolean).length,
  failed: results.filter((ok) => !ok).length,
  statuses,
  errors,
  seconds: round((performance.now() - t0) / 1000, 1),
  answerAfterLastByteMs: { p50: round(lat.p50, 1), p99: round(lat.p99, 1), max: round(lat.max, 1) },
});
finished = true;
process.disconnect();
