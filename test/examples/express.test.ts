// examples/express: its login form's JSON endpoint sets a signed session cookie, which Chute's
// authenticate reads back through the app's middleware (req.user).
import { startExample } from '../../examples/express/app.js';
import { cookieLogin, exampleFlow } from './flow.js';

exampleFlow('Express', {
  mount: '/uploads',
  start: ({ port, origin, database, storage }) => startExample({ port, origin, database, storage }),
  login: cookieLogin('/login'),
});
