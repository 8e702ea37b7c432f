// npx tsx examples/hono/server.ts (from the repository's root)
//   PORT (3000), DATABASE (sqlite:./data/hono-example.sqlite, or postgres://...); local storage in ./data/uploads
import { startExample } from './app.js';

const port = Number(process.env.PORT ?? 3000);
await startExample({
  port,
  database: process.env.DATABASE ?? 'sqlite:./data/hono-example.sqlite',
  storage: { type: 'local', root: './data/uploads' },
});
console.log(`Hono + Chute on http://localhost:${port}: POST /login {"email","password"}, then Chute at /uploads`);
