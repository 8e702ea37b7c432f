// Section "trickle": is start still fast while 200 browsers on slow links are sending local direct
// uploads at 32 KiB/s each? start's p99 at c=10 is measured alone, then during the trickle.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeLoad, runLoad, warmUp } from '../load.mjs';
import { log, MB, memoryOf, round, withTimeout } from '../lib.mjs';
import { loadNotes, loadValue, makeRow, ms } from '../report.mjs';

const START = '/api/files/upload/direct/start/';
const START_BODY = JSON.stringify({ file_name: 'photo.jpg', file_type: 'image/jpeg' });

function startTrickle(server, cfg) {
  const child = fork(
    fileURLToPath(new URL('../trickle-client.mjs', import.meta.url)),
    [
      JSON.stringify({
        baseUrl: server.baseUrl,
        auth: server.auth,
        clients: cfg.trickleClients,
        bytesPerSecond: cfg.trickleBytesPerSecond,
        seconds: cfg.trickleSeconds,
      }),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const message = (type, ms) =>
    withTimeout(
      new Promise((resolve, reject) => {
        const onMessage = (m) => {
          if (m.type === type) {
            child.off('message', onMessage);
            resolve(m);
          }
        };
        child.on('message', onMessage);
        child.once('exit', (code) => reject(new Error(`trickle client exited (${code}) before "${type}"`)));
      }),
      ms,
      `trickle client "${type}"`,
    );
  // both listeners are set now, before either message can arrive
  const ready = message('ready', 60_000);
  const result = message('result', (cfg.trickleSeconds + 60) * 1000);
  result.catch(() => {});
  return { ready, result, kill: () => child.exitCode === null && child.kill('SIGKILL') };
}

export async function benchTrickle({ server, cfg, rows }) {
  const connections = cfg.trickleConnections;
  const options = {
    url: server.baseUrl,
    pid: server.pid,
    connections,
    path: START,
    headers: { 'content-type': 'application/json', ...server.auth },
    body: START_BODY,
  };

  await warmUp(options, cfg.warmupSeconds);
  const idle = await runLoad({ ...options, duration: cfg.trickleLoadSeconds });
  describeLoad('start, idle', idle);

  const idleRss = memoryOf(server.pid).rss;
  let peakRss = idleRss;
  const poll = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, memoryOf(server.pid).rss);
    } catch {}
  }, 100);
  const trickle = startTrickle(server, cfg);
  let loaded;
  let outcome;
  try {
    await trickle.ready;
    log(`trickle: ${cfg.trickleClients} uploads under way at ${cfg.trickleBytesPerSecond / 1024} KiB/s; loading start`);
    loaded = await runLoad({ ...options, duration: cfg.trickleLoadSeconds });
    describeLoad('start, during trickle', loaded);
    outcome = await trickle.result;
  } finally {
    clearInterval(poll);
    trickle.kill();
  }
  log(
    `trickle: ${outcome.ok}/${outcome.clients} uploads OK in ${outcome.seconds} s ${JSON.stringify(outcome.statuses)} ${outcome.errors.join('; ')}`,
  );

  const limit = 2 * idle.latencyMs.p99;
  const startErrors = loaded.bad + loaded.errors;
  rows.push(
    makeRow({
      section: 'trickle',
      what: `start alone, local, c=${connections} (baseline)`,
      value: loadValue(idle),
      notes: loadNotes(idle),
      data: idle,
    }),
  );
  rows.push(
    makeRow({
      section: 'trickle',
      what: `start during ${outcome.clients} uploads trickling at ${outcome.bytesPerSecond / 1024} KiB/s, c=${connections}`,
      value: loadValue(loaded),
      target: `p99 ≤ 2× alone (${ms(limit)}), 0 errors`,
      pass: loaded.latencyMs.p99 <= limit && startErrors === 0 && outcome.failed === 0,
      ratio: idle.latencyMs.p99 ? loaded.latencyMs.p99 / idle.latencyMs.p99 : null,
      ceiling: `p99 alone ${ms(idle.latencyMs.p99)}`,
      notes: loadNotes(loaded, `throughput ${round(loaded.rps / idle.rps, 2)}× alone`),
      data: loaded,
    }),
  );
  rows.push(
    makeRow({
      section: 'trickle',
      what: `the ${outcome.clients} slow uploads (${round(outcome.fileBytes / MB, 2)} MB each over ~${cfg.trickleSeconds} s)`,
      value: `${outcome.ok} of ${outcome.clients} OK`,
      target: '0 errors',
      pass: outcome.failed === 0,
      notes: `statuses ${JSON.stringify(outcome.statuses)}${outcome.errors.length ? `; ${outcome.errors.join('; ')}` : ''}; answer after last byte p99 ${ms(outcome.answerAfterLastByteMs.p99)}; server RSS ${round(idleRss / MB, 0)} → peak ${round(peakRss / MB, 0)} MB`,
      data: { ...outcome, idleRss, peakRss },
    }),
  );
}
