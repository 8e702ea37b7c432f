// The README's webhook receiver, as written there, run as its own process: it accepts what Chute
// sends (and hands the event to the app once) and refuses a request with a forged signature.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { createUser, defer, freePort, multipart, testEnv } from '../helpers.js';
import { newWebhookSecret } from './receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The ```js block that follows "A receiver" in the README's Webhooks section. */
async function readmeReceiver(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Webhooks'));
  const block = /A receiver.*?```js\n(.*?)```/s.exec(section)?.[1];
  assert.ok(block, "the README's Webhooks section shows a receiver in a js block");
  return block;
}

/**
 * The snippet in a folder of its own (the project's node_modules linked in), on a free port; the
 * app's `attachToOrder` prints each call as a JSON line on stdout.
 */
async function startSnippet(t: TestContext, secret: string) {
  const dir = await mkdtemp(join(tmpdir(), 'chute-readme-receiver-'));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(
    join(dir, 'app.mjs'),
    'globalThis.attachToOrder = async (id, webhookId) => console.log(JSON.stringify({ id, webhookId }));\n',
  );
  const port = await freePort();
  const snippet = await readmeReceiver();
  assert.match(snippet, /app\.listen\(4000\)/);
  await writeFile(
    join(dir, 'receiver.mjs'),
    `import './app.mjs';\n${snippet.replace('app.listen(4000)', `app.listen(${port}, '127.0.0.1', () => console.log('listening'))`)}`,
  );
  const child: ChildProcess = spawn(process.execPath, ['receiver.mjs'], {
    cwd: dir,
    env: { ...process.env, WEBHOOK_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  defer(t, () => child.kill());
  const lines: string[] = [];
  let pending = '';
  child.stdout!.on('data', (chunk) => {
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
  });
  const until = async (predicate: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!predicate()) {
      if (child.exitCode !== null) throw new Error(`the README's receiver exited (${child.exitCode})`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await until(() => lines.includes('listening'), 'the receiver to listen');
  return { url: `http://127.0.0.1:${port}/webhooks/chute`, lines, until };
}

test("the README's Express receiver verifies Chute's webhooks and refuses a forged one", async (t) => {
  const secret = newWebhookSecret();
  const receiver = await startSnippet(t, secret);
  const env = await testEnv(t, { env: { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: secret } });
  const app = await buildApp({ config: loadConfig(env) });
  defer(t, () => app.close());
  const alice = await createUser(app);
  const form = multipart({ name: 'notes.txt', content: 'hello', type: 'text/plain' });
  const uploaded = await app.inject({
    method: 'POST',
    url: '/api/files/upload/standard/',
    headers: { ...alice.headers, ...form.headers },
    payload: form.payload,
  });
  assert.equal(uploaded.statusCode, 201, uploaded.body);

  await receiver.until(() => receiver.lines.some((line) => line.startsWith('{')), "the app's handler to run");
  const [call] = receiver.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  assert.equal(call.id, uploaded.json().id, 'the event carries the file the upload made');
  assert.match(call.webhookId, /^msg_[0-9a-f]{32}$/, 'the webhook-id header reached the app');

  // the same body under a signature made with another secret is refused before the app sees it
  const body = JSON.stringify({ type: 'file.finished', timestamp: new Date().toISOString(), data: { id: 1 } });
  const forged = await fetch(receiver.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': 'msg_forged',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,bm90IGEgcmVhbCBzaWduYXR1cmU=',
    },
    body,
  });
  assert.equal(forged.status, 400);
  assert.equal(receiver.lines.filter((line) => line.startsWith('{')).length, 1, 'only the real event reached the app');
});
