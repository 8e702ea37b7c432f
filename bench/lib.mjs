// Small shared helpers for the benchmark: ports, timing, percentiles, /proc readings, logging.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export const MB = 1e6; // throughput and memory are reported in decimal MB (10^6 bytes)
export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

export const log = (...args) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`);

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Rejects when `promise` has not settled within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The middle value (the upper one of an even count). */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** p50/p99/... of a list of numbers (exact, nearest-rank). */
export function percentiles(values) {
  if (values.length === 0) return { count: 0, p50: null, p90: null, p99: null, p999: null, max: null, mean: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted[sorted.length - 1],
    mean: sum / sorted.length,
  };
}

/** Runs `worker` over `items` with at most `concurrency` at once; results in order. */
export async function mapLimit(items, concurrency, worker) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await worker(items[index], index);
      }
    }),
  );
  return results;
}

// ---------- /proc readings of the server process ----------

/** VmRSS and VmHWM of a process, in bytes. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Resets VmHWM to the current RSS (Linux >= 4.0, needs the same user or root); false if refused. */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSecondsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (fields 14 and 15 of stat(5)), in clock ticks (100/s on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Bytes a process has read through read()-like calls (sockets and files): /proc/<pid>/io rchar; with
 * `mainThread`, those of its main thread alone (/proc/<pid>/task/<pid>/io), where node reads its sockets.
 */
export function rcharOf(pid, { mainThread = false } = {}) {
  const path = mainThread ? `/proc/${pid}/task/${pid}/io` : `/proc/${pid}/io`;
  return Number(/^rchar:\s+(\d+)/m.exec(readFileSync(path, 'utf8'))?.[1] ?? NaN);
}

/** CPU seconds the whole machine has spent busy so far (all cores; /proc/stat). */
export function machineBusySeconds() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

/**
 * Measures a server process while `action` runs: its CPU use (share of one core), the bench
 * process's own CPU use, what the rest of the machine used, and, when `memory` is set, its RSS
 * polled every `everyMs`. `action(done)` may call done() the moment the work is over (autocannon
 * notices the end of an `amount` run only at its next one-second tick).
 */
export async function observe(pid, action, { memory = false, everyMs = 25 } = {}) {
  const read = () => ({
    at: performance.now(),
    server: cpuSecondsOf(pid),
    own: process.cpuUsage(),
    busy: machineBusySeconds(),
  });
  const start = read();
  let end = null;
  const done = () => {
    end ??= read();
  };
  let idleRss = null;
  let peakRss = 0;
  let timer = null;
  let hwmReset = false;
  if (memory) {
    hwmReset = resetPeakRss(pid);
    idleRss = memoryOf(pid).rss;
    peakRss = idleRss;
    timer = setInterval(() => {
      try {
        peakRss = Math.max(peakRss, memoryOf(pid).rss);
      } catch {}
    }, everyMs);
  }
  try {
    const result = await action(done);
    done();
    const seconds = (end.at - start.at) / 1000;
    const serverCpu = (end.server - start.server) / seconds;
    const benchCpu = (end.own.user + end.own.system - start.own.user - start.own.system) / 1e6 / seconds;
    const stats = {
      seconds,
      serverCpu,
      benchCpu,
      // what the rest of the machine used meanwhile (other processes: other users' work, RGW, ...)
      otherCpu: Math.max(0, (end.busy - start.busy) / seconds - serverCpu - benchCpu),
    };
    if (memory) {
      const after = memoryOf(pid);
      if (hwmReset) peakRss = Math.max(peakRss, after.hwm);
      Object.assign(stats, { idleRss, peakRss, rssGrowth: peakRss - idleRss, hwmReset });
    }
    return { result, stats };
  } finally {
    if (timer) clearInterval(timer);
  }
}

export function machineInfo() {
  const list = cpus();
  return {
    cpuModel: list[0]?.model?.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round(totalmem() / GiB),
    node: process.version,
    kernel: release(),
    loadAverageAtStart: loadavg().map((n) => round(n, 2)),
  };
}

export const round = (value, digits = 1) =>
  value === null || value === undefined || Number.isNaN(value) ? null : Number(value.toFixed(digits));
