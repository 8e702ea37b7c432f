// The bench's host app: Express 5 with Chute mounted by `createChuteHandler` at /uploads, as the
// package's README shows, on local storage and SQLite. Its own auth is one bearer token (what a
// host's session or API-key lookup stands for). Started by bench/server.mjs (`startExpressHost`).
import express from 'express';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`express-host: ${name} is not set`);
  return value;
};
const port = Number(env('PORT'));
const bearer = `Bearer ${env('HOST_TOKEN')}`;
// the package of the measured checkout, by path (BENCH_APP_DIR may name another commit)
const { createChuteHandler } = (await import(env('CHUTE_SERVER_ENTRY'))) as typeof import('@chute/server');

const app = express();
app.get('/ready', (_req, res) => {
  res.json({ ok: true });
});
const chute = createChuteHandler({
  database: env('HOST_DATABASE'),
  storage: { type: 'local', root: env('HOST_MEDIA_ROOT') },
  publicUrl: `http://127.0.0.1:${port}/uploads`,
  authenticate: async (req) => (req.headers.authorization === bearer ? { id: 'bench-user' } : null),
  // records are started in bulk and uploaded to minutes later, as in the standalone runs
  limits: { maxSize: 2 * 1024 ** 3, presignedExpiry: 3600 },
});
app.use('/uploads', chute);
const server = app.listen(port, '127.0.0.1');
process.once('SIGTERM', () => {
  server.close();
  void chute.close();
});
