// examples/hono: Chute's fetch handler behind the app's signed session cookie (POST /login).
import { startExample } from '../../examples/hono/app.js';
import { cookieLogin, exampleFlow } from './flow.js';

exampleFlow('Hono', {
  mount: '/uploads',
  start: ({ port, origin, database, storage }) => startExample({ port, origin, database, storage }),
  login: cookieLogin('/login'),
});
