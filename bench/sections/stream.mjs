// Section "stream": one big local direct upload and one big standard upload, generated as they are
// sent; MB/s and the server's RSS growth, against the same bytes sent to a bare node http sink.
import { postStream, multipartFrame } from '../http.mjs';
import { GiB, log, MB, memoryOf, observe, round } from '../lib.mjs';
import { makeRow } from '../report.mjs';
import { apiPost } from '../server.mjs';

export const STREAM_TARGETS = { ratio: 0.8, rssGrowthMB: 50 };

const mbps = (bytes, seconds) => bytes / MB / seconds;

async function deleteFile(server, id) {
  const response = await fetch(`${server.baseUrl}/api/files/${id}/`, { method: 'DELETE', headers: server.auth });
  if (response.status !== 204) throw new Error(`DELETE /api/files/${id}/: ${response.status} ${await response.text()}`);
}

async function timedUpload(pid, options, expectStatus) {
  const { result, stats } = await observe(pid, () => postStream(options), { memory: true });
  if (result.status !== expectStatus) throw new Error(`upload answered ${result.status}: ${result.body.slice(0, 300)}`);
  return { ...result, ...stats, mbps: mbps(result.bytes, result.seconds) };
}

export async function benchStream({ server, sink, cfg, rows }) {
  const size = cfg.streamBytes;
  const sizeText = size >= GiB ? `${size / GiB} GiB` : `${Math.round(size / 2 ** 20)} MiB`;
  const frame = () => multipartFrame({ fileName: 'big.bin', fileType: 'application/octet-stream' });
  const runs = { ceiling: [], disk: [], direct: [], standard: [] };
  // memory is measured from the server's idle RSS before any upload, so a warm-up cannot hide it
  const idleRss = memoryOf(server.pid).rss;

  // warm-up, not counted: the first MB/s of a cold process is JIT and buffer pools, not the server
  const warm = Math.min(size, 128 * 2 ** 20);
  await postStream({ url: `${sink.url}/sink`, frame: frame(), fileBytes: warm });
  await postStream({ url: `${sink.url}/file`, frame: frame(), fileBytes: warm });
  const warmStart = await apiPost(server, '/api/files/upload/direct/start/', {
    file_name: 'warm.bin',
    file_type: 'application/octet-stream',
  });
  await postStream({ url: warmStart.url, headers: server.auth, frame: frame(), fileBytes: warm });
  await postStream({
    url: `${server.baseUrl}/api/files/upload/standard/`,
    headers: server.auth,
    frame: frame(),
    fileBytes: warm,
  });

  // Rounds of sink, direct, standard back to back: on a shared machine the neighbours' load
  // changes from second to second, so each figure is the best speed (and the worst RSS) seen.
  for (let round_ = 1; round_ <= cfg.streamRounds; round_++) {
    // the ceiling: the same client, the same bytes, a server that only reads them
    const ceiling = await timedUpload(sink.pid, { url: `${sink.url}/sink`, frame: frame(), fileBytes: size }, 200);
    runs.ceiling.push(ceiling);
    log(
      `stream ${round_}: sink ${round(ceiling.mbps, 0)} MB/s (sink CPU ${round(ceiling.serverCpu, 2)}, other ${round(ceiling.otherCpu, 2)})`,
    );
    // the same, written to a file: what the disk allows
    const disk = await timedUpload(sink.pid, { url: `${sink.url}/file`, frame: frame(), fileBytes: size }, 200);
    runs.disk.push(disk);
    log(
      `stream ${round_}: sink writing to a file ${round(disk.mbps, 0)} MB/s (sink CPU ${round(disk.serverCpu, 2)}, other ${round(disk.otherCpu, 2)})`,
    );

    // direct and standard swap places each round, and each stored file is deleted at once, so
    // that neither always runs while the other's gigabyte is being written back to disk
    const order = round_ % 2 === 1 ? ['direct', 'standard'] : ['standard', 'direct'];
    for (const kind of order) {
      let run;
      if (kind === 'direct') {
        const start = await apiPost(server, '/api/files/upload/direct/start/', {
          file_name: 'big.bin',
          file_type: 'application/octet-stream',
        });
        run = await timedUpload(
          server.pid,
          { url: start.url, headers: server.auth, frame: frame(), fileBytes: size },
          200,
        );
        await apiPost(server, '/api/files/upload/direct/finish/', { file_id: start.id });
        await deleteFile(server, start.id);
      } else {
        run = await timedUpload(
          server.pid,
          {
            url: `${server.baseUrl}/api/files/upload/standard/`,
            headers: server.auth,
            frame: frame(),
            fileBytes: size,
          },
          201,
        );
        await deleteFile(server, JSON.parse(run.body).id);
      }
      runs[kind].push(run);
      log(
        `stream ${round_}: ${kind} ${round(run.mbps, 0)} MB/s, RSS +${round(run.rssGrowth / MB, 1)} MB, server CPU ${round(run.serverCpu, 2)}, other ${round(run.otherCpu, 2)}`,
      );
    }
  }
  const fastest = (list) => list.reduce((a, b) => (b.mbps > a.mbps ? b : a));
  const ceiling = fastest(runs.ceiling);
  const disk = fastest(runs.disk);
  // the larger of: growth during one upload (peak − RSS just before it), and peak over the idle RSS
  // before any upload (the heap the uploads left behind counts too); RSS can also shrink after GC
  const growth = (list) => Math.max(...list.map((r) => r.rssGrowth), Math.max(...list.map((r) => r.peakRss)) - idleRss);
  const direct = { ...fastest(runs.direct), rssGrowth: growth(runs.direct) };
  const standard = { ...fastest(runs.standard), rssGrowth: growth(runs.standard) };
  const all = (list) => list.map((r) => round(r.mbps, 0)).join(', ');
  const own = (list) => list.map((r) => round(r.rssGrowth / MB, 1)).join(', ');

  const ceilingText = `bare node http sink ${round(ceiling.mbps, 0)} MB/s`;
  const cpu = (run) =>
    `server CPU ${Math.round(run.serverCpu * 100)}%, bench CPU ${Math.round(run.benchCpu * 100)}%, other processes ${Math.round(run.otherCpu * 100)}%`;
  rows.push(
    makeRow({
      section: 'stream',
      what: `ceiling: ${sizeText} multipart POST to a bare node http sink (discards the body)`,
      value: `${round(ceiling.mbps, 0)} MB/s`,
      notes: `best of ${runs.ceiling.length} (MB/s: ${all(runs.ceiling)}); ${round(ceiling.seconds, 2)} s; sink CPU ${Math.round(ceiling.serverCpu * 100)}%, bench CPU ${Math.round(ceiling.benchCpu * 100)}%, other processes ${Math.round(ceiling.otherCpu * 100)}%`,
      data: { best: ceiling, runs: runs.ceiling },
    }),
  );
  rows.push(
    makeRow({
      section: 'stream',
      what: `for comparison: the same POST to the sink writing the body to a file in the same temp folder`,
      value: `${round(disk.mbps, 0)} MB/s`,
      ratio: disk.mbps / ceiling.mbps,
      ceiling: ceilingText,
      notes: `best of ${runs.disk.length} (MB/s: ${all(runs.disk)}); what local storage can reach at best here; sink CPU ${Math.round(disk.serverCpu * 100)}%, other processes ${Math.round(disk.otherCpu * 100)}%`,
      data: { best: disk, runs: runs.disk },
    }),
  );
  for (const [name, run, list] of [
    ['local direct upload', direct, runs.direct],
    ['standard upload (local storage)', standard, runs.standard],
  ]) {
    rows.push(
      makeRow({
        section: 'stream',
        what: `${name}, ${sizeText}: speed`,
        value: `${round(run.mbps, 0)} MB/s`,
        target: `≥ ${STREAM_TARGETS.ratio * 100}% of the sink`,
        pass: run.mbps >= STREAM_TARGETS.ratio * ceiling.mbps,
        ceiling: ceilingText,
        ratio: run.mbps / ceiling.mbps,
        notes: `best of ${list.length} (MB/s: ${all(list)}); ${round(run.seconds, 2)} s; ${round(run.mbps / disk.mbps, 2)}× the file-writing sink; ${cpu(run)}`,
        data: { best: run, runs: list },
      }),
    );
    rows.push(
      makeRow({
        section: 'stream',
        what: `${name}, ${sizeText}: server peak RSS − idle RSS`,
        value: `${round(run.rssGrowth / MB, 1)} MB`,
        target: `≤ ${STREAM_TARGETS.rssGrowthMB} MB`,
        pass: run.rssGrowth / MB <= STREAM_TARGETS.rssGrowthMB,
        notes: `the larger of peak − RSS just before, per upload (${own(list)} MB), and peak over the idle RSS before any upload (idle ${round(idleRss / MB, 1)} MB, peak ${round(Math.max(...list.map((r) => r.peakRss)) / MB, 1)} MB; a ${Math.round(warm / 2 ** 20)} MiB warm-up and the other uploads ran in between); ${run.hwmReset ? 'VmHWM reset before each upload, and VmRSS polled every 25 ms' : 'VmRSS polled every 25 ms'}`,
        data: { idleRss, runs: list.map((r) => ({ before: r.idleRss, peakRss: r.peakRss, growth: r.rssGrowth })) },
      }),
    );
  }
}
