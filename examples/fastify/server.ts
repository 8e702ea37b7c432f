// npx tsx examples/fastify/server.ts (from the repository's root)
//   PORT (3000), DATABASE (sqlite:./data/fastify-example.sqlite, or postgres://...); local storage in ./data/uploads
import { startExample } from './app.js';

const port = Number(process.env.PORT ?? 3000);
await startExample({
  port,
  database: process.env.DATABASE ?? 'sqlite:./data/fastify-example.sqlite',
  storage: { type: 'local', root: './data/uploads' },
});
console.log(
  `Fastify + Chute on http://localhost:${port}: POST /api/tokens {"email","password"}, then Chute at /uploads`,
);
