// examples/express: its login form's JSON endpoint sets a signed session cookie, which Chute's
// authenticate reads back (cookie-authenticated writes carry the page's Origin, as a browser's do).
import assert from 'node:assert/strict';
import { startExample } from '../../examples/express/app.js';
import { exampleFlow } from './flow.js';

exampleFlow('Express', {
  mount: '/uploads',
  start: ({ port, origin, database, storage }) => startExample({ port, origin, database, storage }),
  async login(origin, user) {
    const answer = await fetch(`${origin}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    });
    assert.equal(answer.status, 200, await answer.text());
    const cookie = answer.headers.getSetCookie()[0]?.split(';')[0];
    assert.ok(cookie, 'the login set no cookie');
    return { cookie, origin };
  },
});
