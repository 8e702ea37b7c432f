// HTTP load with autocannon's programmatic API. Latencies are taken from autocannon's per-response
// event (sub-millisecond, every status) rather than its 1 ms histogram, so p50/p99 are exact.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { log, median, observe, percentiles, round, withTimeout } from './lib.mjs';

/**
 * One bounded load run. Either `duration` (s) or `amount` (requests) ends it; `maxSeconds` caps
 * an amount run in time as well.
 * @returns {{ rps, count, seconds, latencyMs: {p50,p90,p99,p999,max,mean}, statuses, ok, errors, errorSamples, serverCpu, benchCpu }}
 */
export async function runLoad({
  url,
  pid,
  connections,
  duration,
  amount,
  maxSeconds = 120,
  method = 'POST',
  path = '/',
  headers = {},
  body,
  requests,
  okStatus = [200],
}) {
  const latencies = [];
  const statuses = {};
  const errorSamples = new Set();
  let errors = 0;
  let instance;
  if (amount) connections = Math.min(connections, amount);
  const action = async (done) => {
    instance = autocannon({
      url,
      connections,
      pipelining: 1,
      timeout: 10,
      ...(amount ? { amount } : { duration }),
      method,
      headers,
      body,
      ...(requests ? { requests } : { requests: [{ method, path, headers, body }] }),
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (amount && latencies.length + errors >= amount) done();
    });
    instance.on('reqError', (error) => {
      errors += 1;
      if (amount && latencies.length + errors >= amount) done();
      if (errorSamples.size < 5) errorSamples.add(String(error?.code ?? error?.message ?? error));
    });
    return withTimeout(instance, ((amount ? maxSeconds : duration) + 30) * 1000, 'autocannon run');
  };
  let observed;
  try {
    observed = await observe(pid, action);
  } catch (error) {
    instance?.stop?.();
    throw error;
  }
  const { result, stats } = observed;
  const count = latencies.length;
  const ok = Object.entries(statuses).reduce(
    (sum, [status, n]) => sum + (okStatus.includes(Number(status)) ? n : 0),
    0,
  );
  const lat = percentiles(latencies);
  return {
    connections,
    count,
    seconds: round(stats.seconds, 2),
    rps: round(count / stats.seconds, 0),
    latencyMs: Object.fromEntries(
      Object.entries(lat)
        .filter(([k]) => k !== 'count')
        .map(([k, v]) => [k, round(v, 2)]),
    ),
    statuses,
    ok,
    bad: count - ok,
    errors, // socket errors and timeouts (autocannon reports both as reqError)
    timeouts: result.timeouts ?? 0,
    errorSamples: [...errorSamples],
    serverCpu: round(stats.serverCpu, 2),
    benchCpu: round(stats.benchCpu, 2),
    otherCpu: round(stats.otherCpu, 2),
    /** server CPU time per request: the cost of one request, nearly independent of what else runs */
    serverCpuUsPerRequest: count ? round((stats.serverCpu * stats.seconds * 1e6) / count, 0) : null,
  };
}

/** A short run whose result is thrown away: JIT warm-up and connection set-up. */
export async function warmUp(options, seconds = 2) {
  if (seconds <= 0) return;
  await runLoad({ ...options, duration: seconds, amount: undefined });
}

/** Hands out ids from a pool, in order; counts how often it had to repeat (pool exhausted). */
export function idPool(ids) {
  let next = 0;
  const pool = {
    repeats: 0,
    take() {
      if (next >= ids.length) {
        pool.repeats += 1;
        return ids[(next++ - ids.length) % ids.length];
      }
      return ids[next++];
    },
    cycle() {
      return ids[next++ % ids.length];
    },
  };
  return pool;
}

/** The minimal node http sink (bench/sink.mjs) in its own process. */
export async function startSink() {
  const child = fork(fileURLToPath(new URL('./sink.mjs', import.meta.url)), [], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`sink exited (${code})`)));
      child.stdout.once('data', (data) => resolve(JSON.parse(String(data)).port));
    }),
    15_000,
    'sink start',
  );
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await withTimeout(gone, 10_000, 'sink stop').catch(() => child.kill('SIGKILL'));
    },
  };
}

/** Of a target's rounds, the run with the median req/s: its latencies and CPU shares are one real round's. */
export function medianRun(runs) {
  const rps = median(runs.map((run) => run.rps));
  return runs.find((run) => run.rps === rps);
}

/**
 * Two servers' [side, server] pairs in a round's order: as given in even rounds, reversed in odd
 * ones. With a fixed order a commit measured against itself came out 3-9% faster in the second slot.
 */
export function inTurn(servers, round) {
  const sides = Object.entries(servers);
  return round % 2 ? sides.reverse() : sides;
}

/**
 * `rounds` alternating rounds of `round(server, side)` on every server, each first in turn, with
 * `after(side)` after each; a round with a refused request or error (or, given `expected`, another
 * number of OK answers) stops the section. The runs by side, in round order.
 */
export async function alternateRounds(name, servers, rounds, round, { expected, after = async () => {} } = {}) {
  const runs = Object.fromEntries(Object.keys(servers).map((side) => [side, []]));
  for (let index = 0; index < rounds; index++) {
    for (const [side, server] of inTurn(servers, index)) {
      const run = await round(server, side);
      describeLoad(`${name} ${side} (round ${index + 1})`, run);
      await after(side);
      if (run.bad || run.errors || (expected !== undefined && run.ok !== expected))
        throw new Error(`${name} (${side}): ${run.ok} OK, ${run.errors} errors ${JSON.stringify(run.statuses)}`);
      runs[side].push(run);
    }
  }
  return runs;
}

export function describeLoad(name, run) {
  const bad =
    run.bad || run.errors
      ? `, ${run.bad} non-OK ${JSON.stringify(run.statuses)}, ${run.errors} errors ${run.errorSamples.join(' ')}`
      : '';
  log(
    `${name}: c=${run.connections} ${run.rps} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, server CPU ${run.serverCpu} (${run.serverCpuUsPerRequest} µs/req), other CPU ${run.otherCpu}${bad}`,
  );
}
