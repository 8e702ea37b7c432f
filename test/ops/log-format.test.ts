// `npm start` at a terminal prints readable lines; piped into a collector, JSON lines; LOG_FORMAT
// forces either. The real server process, under a pseudo-terminal (util-linux `script`) where the
// terminal is what decides.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test, type TestContext } from 'node:test';
import { defer, freePort } from '../helpers.js';

const TOKEN = 'log-format-secret-token-1234567890';

/** Starts the server (under a terminal when `tty`), sends one request, stops it; its output. */
async function serverOutput(t: TestContext, { tty, format }: { tty: boolean; format?: string }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chute-logfmt-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    APP_DOMAIN: baseUrl,
    DATABASE_URL: `sqlite:${join(dir, 'chute.sqlite')}`,
    MEDIA_ROOT: join(dir, 'media'),
    FILE_UPLOAD_STORAGE: 'local',
    SERVE_WEB_APP: 'false',
    LOG_LEVEL: 'info',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  delete env.LOG_FORMAT;
  if (format) env.LOG_FORMAT = format;
  const command = [process.execPath, '--import', 'tsx', 'src/server.ts'];
  const [file, args] = tty
    ? (['script', ['-qfec', command.join(' '), '/dev/null']] as const)
    : ([command[0]!, command.slice(1)] as const);
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  defer(t, stop);
  for (
    let i = 0;
    i < 1200 &&
    !(await fetch(`${baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    ));
    i += 1
  )
    await sleep(100);
  const me = await fetch(`${baseUrl}/api/auth/me/`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(me.status, 401);
  // the 401's own line (the health checks above have request lines too), colours stripped
  const logged401 = () => /request completed.*401/.test(stripColours(output));
  for (let i = 0; i < 400 && !logged401(); i += 1) await sleep(50);
  stop();
  await exited;
  return output;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes stripped here
const stripColours = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');
const jsonLines = (output: string) =>
  output
    .split(/\r?\n/)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('log format', () => {
  test('at a terminal: readable lines (level, message, fields), no JSON, credentials still left out', async (t) => {
    const output = await serverOutput(t, { tty: true });
    assert.match(output, /INFO.*Chute is serving/, output);
    const plain = stripColours(output);
    assert.match(plain, /INFO.*request completed.*"statusCode":401/, plain);
    assert.equal(jsonLines(plain).length, 0, plain);
    assert.ok(!output.includes(TOKEN), output);
  });

  test('piped: one JSON object per line; LOG_FORMAT=pretty forces readable lines and LOG_FORMAT=json JSON at a terminal', async (t) => {
    const piped = jsonLines(await serverOutput(t, { tty: false }));
    assert.ok(
      piped.some((line) => line.msg === 'request completed' && line.statusCode === 401),
      JSON.stringify(piped),
    );

    const pretty = await serverOutput(t, { tty: false, format: 'pretty' });
    assert.match(pretty, /INFO.*request completed/, pretty);
    assert.equal(jsonLines(pretty).length, 0, pretty);
    assert.ok(!pretty.includes(TOKEN), pretty);

    const json = jsonLines(await serverOutput(t, { tty: true, format: 'json' }));
    assert.ok(
      json.some((line) => line.msg === 'request completed'),
      JSON.stringify(json),
    );
  });
});
