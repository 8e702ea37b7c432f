// Uppy Companion 6.2.2 mounted as its README's "plug into an existing server" says: an Express 4 app
// with express.json() and express-session, then companion.app(options).app. Started by
// bench/sections/uppy.mjs as its own process, settings in the environment (PORT, S3_ENDPOINT,
// S3_KEY, S3_SECRET, S3_BUCKET); prints `ready` on stdout once it listens, nothing else.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as companion from '@uppy/companion';
import express from 'express';
import session from 'express-session';

const { PORT, S3_ENDPOINT, S3_KEY, S3_SECRET, S3_BUCKET } = process.env;
const secret = randomBytes(32).toString('hex');
// where remote providers' downloads would go (S3 signing writes nothing): a folder of its own, as
// Companion's daily clean-up job deletes old files of its own there
const filePath = mkdtempSync(join(tmpdir(), 'chute-bench-companion-'));

const app = express();
app.use(express.json());
// a session is stored only when Companion writes one (its S3 routes never do): a load test leaves
// the MemoryStore empty
app.use(session({ secret, resave: false, saveUninitialized: false }));
const { app: companionApp } = companion.app({
  secret,
  filePath,
  server: { host: `127.0.0.1:${PORT}`, protocol: 'http' },
  corsOrigins: true,
  // required with NODE_ENV=production; it gates proxied uploads, which are not measured
  uploadUrls: [S3_ENDPOINT],
  s3: {
    key: S3_KEY,
    secret: S3_SECRET,
    bucket: S3_BUCKET,
    region: 'us-east-1',
    endpoint: S3_ENDPOINT,
    forcePathStyle: true,
  },
});
app.use(companionApp);
app.listen(Number(PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => {
  rmSync(filePath, { recursive: true, force: true });
  process.exit(0);
});
