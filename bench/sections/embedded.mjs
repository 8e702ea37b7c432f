// Section "embedded": start through `createChuteHandler` inside an Express 5 host (bench/express-host.ts)
// against the standalone server's start, in the same run, on local storage and SQLite. The two are
// measured in turns (standalone, host, standalone, host) at each concurrency and each side's best
// round is kept: a neighbour on the machine can only slow a round down, never speed it up.
import { log } from '../lib.mjs';
import { describeLoad, runLoad, warmUp } from '../load.mjs';
import { int, loadNotes, loadValue, makeRow } from '../report.mjs';
import { startLoad } from './api.mjs';
/** issue 13: the handler inside Express within 15% of the standalone server */
export const EMBEDDED_MIN_RATIO = 0.85;
const ROUNDS = 2;

/** @param {{ standalone, host, cfg, rows: object[] }} ctx: both servers running, local storage, SQLite */
export async function benchEmbedded({ standalone, host, cfg, rows }) {
  for (const connections of cfg.connections) {
    const best = new Map();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, server] of [
        ['standalone', standalone],
        ['express', host],
      ]) {
        const options = startLoad(server, connections);
        await warmUp(options, cfg.warmupSeconds);
        const run = await runLoad({ ...options, duration: cfg.loadSeconds });
        describeLoad(`start ${name} round ${round + 1}`, run);
        if (run.bad || run.errors) throw new Error(`start ${name}: ${run.bad} non-OK ${JSON.stringify(run.statuses)}`);
        if (!best.has(name) || run.rps > best.get(name).rps) best.set(name, run);
      }
    }
    const alone = best.get('standalone');
    const inside = best.get('express');
    const ratio = inside.rps / alone.rps;
    log(`embedded c=${connections}: express ${inside.rps} / standalone ${alone.rps} req/s = ${ratio.toFixed(2)}`);
    rows.push(
      makeRow({
        section: 'embedded',
        what: `start, standalone server, local, SQLite, c=${connections} (best of ${ROUNDS}, in turns)`,
        value: loadValue(alone),
        notes: loadNotes(
          alone,
          'session lookup and the per-user start limit (a counter write per batch of starts) per request',
        ),
        data: { mode: 'local', db: 'SQLite', ...alone },
      }),
      makeRow({
        section: 'embedded',
        what: `start through createChuteHandler in Express 5, local, SQLite, c=${connections} (best of ${ROUNDS}, in turns)`,
        value: loadValue(inside),
        target: `≥ ${int(EMBEDDED_MIN_RATIO * 100)}% of the standalone start`,
        pass: ratio >= EMBEDDED_MIN_RATIO,
        ceiling: `standalone ${int(alone.rps)} req/s`,
        ratio,
        notes: loadNotes(inside, `${int(ratio * 100)}% of standalone; the host's auth: one bearer token compare`),
        data: { mode: 'local', db: 'SQLite', host: 'express', ...inside },
      }),
    );
  }
}
