// examples/fastify: the app's own API tokens (POST /api/tokens), sent as Bearer tokens to Chute.
import assert from 'node:assert/strict';
import { startExample } from '../../examples/fastify/app.js';
import { exampleFlow } from './flow.js';

exampleFlow('Fastify', {
  mount: '/uploads',
  start: ({ port, origin, database, storage }) => startExample({ port, origin, database, storage }),
  async login(origin, user) {
    const answer = await fetch(`${origin}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    });
    const text = await answer.text();
    assert.equal(answer.status, 200, text);
    const { token } = JSON.parse(text) as { token: string };
    return { authorization: `Bearer ${token}` };
  },
});
