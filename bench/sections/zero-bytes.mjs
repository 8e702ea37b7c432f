// Section "zerobytes": in S3 mode the file's bytes must go from the client straight to S3. 100
// direct uploads of 1 MiB run through a counting TCP proxy in front of the API (start, finish),
// while the file goes to the presigned URL; the read() total of the API's main thread, which reads
// every socket (/proc/<pid>/task/<pid>/io rchar), is a second witness. The whole process's total is
// noted beside it: SQLite's checkpoint thread reads back the pages the API's commits wrote.
import { createServer, connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { log, mapLimit, MiB, rcharOf, round, withTimeout } from '../lib.mjs';
import { int, makeRow } from '../report.mjs';

export const ZERO_BYTES_TARGET = 8192; // bytes the API may receive per upload: headers and JSON only

/** A TCP proxy to `port` counting the bytes each way. */
async function countingProxy(port) {
  const counts = { toApi: 0, fromApi: 0, connections: 0 };
  const sockets = new Set();
  const server = createServer((client) => {
    counts.connections += 1;
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (data) => (counts.toApi += data.length));
    upstream.on('data', (data) => (counts.fromApi += data.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function benchZeroBytes({ server, cfg, rows }) {
  const uploads = cfg.zeroUploads;
  const size = MiB;
  const content = randomBytes(size);
  const proxy = await countingProxy(server.port);
  const headers = { 'content-type': 'application/json', ...server.auth };
  const failures = [];
  const rchar0 = rcharOf(server.pid, { mainThread: true });
  const processRchar0 = rcharOf(server.pid);
  const t0 = performance.now();
  try {
    await withTimeout(
      mapLimit(Array.from({ length: uploads }), 4, async (_, index) => {
        try {
          const start = await fetch(`${proxy.url}/api/files/upload/direct/start/`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ file_name: `z${index}.bin`, file_type: 'application/octet-stream' }),
          });
          if (start.status !== 200) throw new Error(`start ${start.status} ${await start.text()}`);
          const { id, url, fields } = await start.json();
          const form = new FormData();
          for (const [name, value] of Object.entries(fields)) form.append(name, value);
          form.append('file', new Blob([content], { type: 'application/octet-stream' }), `z${index}.bin`);
          const put = await fetch(url, { method: 'POST', body: form });
          if (put.status !== 204) throw new Error(`S3 POST ${put.status} ${(await put.text()).slice(0, 200)}`);
          const finish = await fetch(`${proxy.url}/api/files/upload/direct/finish/`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ file_id: id }),
          });
          const file = await finish.json();
          if (finish.status !== 200 || file.file_size !== size || !file.is_valid)
            throw new Error(`finish ${finish.status} ${JSON.stringify(file)}`);
        } catch (error) {
          failures.push(String(error.message ?? error));
        }
      }),
      300_000,
      'zero-bytes uploads',
    );
  } finally {
    await proxy.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const rchar = rcharOf(server.pid, { mainThread: true }) - rchar0;
  const processRchar = rcharOf(server.pid) - processRchar0;
  const fileBytes = uploads * size;
  const perUpload = proxy.counts.toApi / uploads;
  log(
    `zero bytes: ${uploads - failures.length}/${uploads} uploads OK in ${round(seconds, 1)} s; API received ${proxy.counts.toApi} B (${round(perUpload, 0)} B/upload), rchar +${rchar} (main thread), +${processRchar} (process)`,
  );
  rows.push(
    makeRow({
      section: 'zerobytes',
      what: `bytes the API received during ${uploads} direct S3 uploads of 1 MiB (counting proxy)`,
      value: `${int(proxy.counts.toApi)} B in all, ${int(perUpload)} B per upload`,
      target: `≤ ${int(ZERO_BYTES_TARGET)} B per upload (metadata only), all uploads OK`,
      pass: perUpload <= ZERO_BYTES_TARGET && failures.length === 0,
      ceiling: `file bytes ${int(fileBytes)} B`,
      ratio: proxy.counts.toApi / fileBytes,
      notes: `${uploads - failures.length}/${uploads} OK in ${round(seconds, 1)} s${failures.length ? `; failures: ${failures.slice(0, 3).join('; ')}` : ''}; API sent ${int(proxy.counts.fromApi)} B; ${proxy.counts.connections} connections`,
      data: { uploads, fileBytes, ...proxy.counts, failures },
    }),
  );
  rows.push(
    makeRow({
      section: 'zerobytes',
      what: `rchar growth of the API's main thread over the same ${uploads} uploads`,
      value: `${int(rchar)} B, ${int(rchar / uploads)} B per upload`,
      target: `< 5% of the file bytes (${int(fileBytes)} B)`,
      pass: rchar < fileBytes * 0.05,
      ratio: rchar / fileBytes,
      notes: `second witness: every read() of the thread that reads the sockets, so also RGW answers to HeadObject and SQLite page reads; had the files passed through the API it would be ≥ 100%. The whole process: ${int(processRchar)} B, ${int(processRchar / uploads)} B per upload (also the SQLite checkpoint thread reading back the log)`,
      data: { rchar, processRchar },
    }),
  );
}
