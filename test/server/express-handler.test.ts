// The shared suite against createChuteHandler mounted with app.use('/uploads', ...) in an Express 5
// host, whose own middleware sets req.user, which authenticate reads from the Express request.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { createChuteHandler } from '@chute/server';
import express from 'express';
import { defer, freePort } from '../helpers.js';
import { cookieToken, HOST_TOKEN_HEADER, runChuteSuite, type HostSetup, scratchRoot } from './suite.js';

const unusedRoot = await scratchRoot();

type HostRequest = express.Request & { user?: { id: number | string } | null };

async function expressHost(port: number, { options, userOf }: Omit<HostSetup, 'port'>) {
  const app = express();
  app.use((req: HostRequest, _res, next) => {
    req.user = userOf(req.get(HOST_TOKEN_HEADER) ?? cookieToken(req.get('cookie')));
    next();
  });
  const chute = createChuteHandler<HostRequest>({ ...options, authenticate: async (req) => req.user ?? null });
  app.use('/uploads', chute);
  app.get('/uploads/host-page', (_req, res) => void res.send('the host page'));
  app.use((_req, res) => void res.status(404).send('the host 404'));
  const server = app.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const close = async () => {
    await new Promise((resolve) => server.close(resolve));
    await chute.close();
  };
  return { close };
}

runChuteSuite('Express handler', async (t, { port, ...setup }) => {
  const host = await expressHost(port, setup);
  defer(t, host.close);
});

test("paths under the mount that are not Chute's go on to the host's next handlers", async (t) => {
  const port = await freePort();
  const host = await expressHost(port, {
    options: {
      database: 'sqlite::memory:',
      storage: { type: 'local', root: unusedRoot },
      publicUrl: `http://127.0.0.1:${port}/uploads`,
    },
    userOf: () => ({ id: 1 }),
  });
  defer(t, host.close);
  const page = await fetch(`http://127.0.0.1:${port}/uploads/host-page`);
  assert.equal(await page.text(), 'the host page');
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/uploads/other`)).text(), 'the host 404');
  const chute = await fetch(`http://127.0.0.1:${port}/uploads/api/files/nope/x/`);
  assert.deepEqual([chute.status, ((await chute.json()) as { code: string }).code], [404, 'not_found']);
});
