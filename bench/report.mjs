// Results: one row per figure (value, target, pass/miss, ceiling and ratio), written as JSON and
// as a Markdown table.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { round } from './lib.mjs';

export const int = (n) => (n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US'));
export const ms = (n) => (n === null || n === undefined ? '—' : `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`);

/**
 * @param {object} row
 * @param {string} row.section
 * @param {string} row.what         e.g. "start, local, SQLite, c=10"
 * @param {string} row.value        the figure as shown
 * @param {string} [row.target]     target as shown
 * @param {boolean|null} [row.pass] null when there is no target
 * @param {string} [row.ceiling]    ceiling as shown
 * @param {number|null} [row.ratio] value / ceiling
 * @param {string} [row.notes]
 * @param {object} [row.data]       raw numbers for the JSON
 */
export function makeRow({
  section,
  what,
  value,
  target = '',
  pass = null,
  ceiling = '',
  ratio = null,
  notes = '',
  data = {},
}) {
  const shown = ratio === null ? null : Math.abs(ratio) >= 0.01 ? round(ratio, 2) : Number(ratio.toPrecision(2));
  return { section, what, value, target, pass, ceiling, ratio: shown, notes, data };
}

/** The usual line for a load run: throughput and latency. */
export function loadValue(run) {
  const bad = run.bad || run.errors ? ` (**of which ${int(run.bad + run.errors)} failed**)` : '';
  return `${int(run.rps)} req/s${bad}; p50 ${ms(run.latencyMs.p50)}, p99 ${ms(run.latencyMs.p99)}`;
}

export function loadNotes(run, extra = '') {
  const parts = [];
  if (run.bad) parts.push(`**${run.bad} non-OK** ${JSON.stringify(run.statuses)}`);
  if (run.errors) parts.push(`**${run.errors} errors** (${run.errorSamples.join(', ')})`);
  parts.push(
    `${int(run.count)} reqs in ${run.seconds} s; server CPU ${Math.round(run.serverCpu * 100)}% = ${int(run.serverCpuUsPerRequest)} µs/req; bench CPU ${Math.round(run.benchCpu * 100)}%; other processes ${Math.round(run.otherCpu * 100)}%`,
  );
  if (extra) parts.push(extra);
  return parts.join('; ');
}

const cell = (text) =>
  String(text ?? '')
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ');
const passText = (pass) => (pass === null || pass === undefined ? '' : pass ? 'pass' : '**MISS**');

export function markdown(report) {
  const m = report.machine;
  const lines = [];
  lines.push(
    `# Chute benchmark — ${report.startedAt}${report.quick ? ' (BENCH_QUICK: smoke run, not comparable)' : ''}`,
  );
  lines.push('');
  lines.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}; load generator autocannon ${report.tools.autocannon} (same machine, 127.0.0.1); load average at start ${m.loadAverageAtStart.join(' ')}.`,
  );
  lines.push(
    'CPU shares are of one core (200% = the whole machine); "other processes" is what the rest of the machine used during that measurement: figures with a large share there were measured on a busy machine.',
  );
  lines.push(
    `Server: \`node --import tsx src/server.ts\` (LOG_LEVEL=warn), database ${report.databases.join(' and ')}, S3 = ${report.s3 ?? 'not used'}.${report.cpuProfile ? ' **CPU profiler on: figures are slower than normal.**' : ''}`,
  );
  if (report.nice !== null)
    lines.push(
      `The bench and all it started ran at nice ${report.nice} (BENCH_NICE), ahead of the machine's other work.`,
    );
  const version = ({ dir, commit, changedFiles }) =>
    `${dir}${commit ? ` at ${commit}${changedFiles ? ` with ${changedFiles} changed files` : ''}` : ''}`;
  lines.push(`Code measured: ${version(report.app)}.`);
  if (report.base) lines.push(`Compared with (BENCH_BASE_DIR): ${version(report.base)}.`);
  lines.push(`Sections: ${report.sections.join(', ')}; took ${report.seconds} s. MB = 10^6 bytes.`);
  lines.push('');
  lines.push('| Section | Measurement | Value | Target | Pass | Ceiling | Ratio | Notes |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const row of report.rows) {
    lines.push(
      `| ${[row.section, row.what, row.value, row.target, passText(row.pass), row.ceiling, row.ratio ?? '', row.notes].map(cell).join(' | ')} |`,
    );
  }
  const judged = report.rows.filter((row) => row.pass !== null);
  lines.push('');
  lines.push(`Targets: ${judged.filter((row) => row.pass).length} of ${judged.length} met.`);
  if (report.rows.some((row) => row.section === 'start' && row.what.includes('c=100'))) {
    lines.push(
      "At c=100, p99 ≤ 10 ms needs ≥ 10,000 req/s (Little's law: 100 requests in flight, each answered within 10 ms).",
    );
  }
  if (report.failures.length) {
    lines.push('');
    lines.push('Sections that failed to run:');
    for (const failure of report.failures) lines.push(`- ${failure.section}: ${failure.error}`);
  }
  if (report.profiles?.length) {
    lines.push('');
    lines.push(
      'CPU profiles of the servers after their start (self time, top frames; `node bench/profile.mjs <file>` for more):',
    );
    for (const profile of report.profiles) {
      lines.push(
        '',
        `- ${profile.label} (${profile.file}): ${profile.summary.byPackage
          .slice(0, 6)
          .map((p) => `${p.name} ${p.pct}%`)
          .join(', ')}`,
      );
      for (const frame of profile.summary.top.slice(0, 12))
        lines.push(`  - ${frame.pct}% ${frame.name} ${frame.where}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function writeReport(dir, report) {
  await mkdir(dir, { recursive: true });
  const stamp = report.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const md = markdown(report);
  await writeFile(join(dir, `${stamp}.json`), json);
  await writeFile(join(dir, 'latest.json'), json);
  await writeFile(join(dir, 'latest.md'), md);
  return { md, files: [join(dir, `${stamp}.json`), join(dir, 'latest.json'), join(dir, 'latest.md')] };
}
