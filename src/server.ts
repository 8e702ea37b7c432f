import { ConfigError, loadConfig, type Config } from './config.js';
import { buildApp } from './http/app.js';
import { loggerOptions } from './logger.js';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`chute: bad configuration: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const app = await buildApp({ config, logger: loggerOptions(config, { isTTY: process.stdout.isTTY === true }) });

// SIGTERM from an orchestrator, SIGINT from a terminal: stop taking connections, let in-flight
// requests (uploads included) finish up to the grace period, then close the database.
const GRACE_MS = 25_000;
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      app.log.warn('grace period over; exiting with requests still open');
      process.exit(1);
    }, GRACE_MS);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  });
}

try {
  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    `Chute is serving ${config.appDomain} (storage: ${config.storage}, database: ${config.databaseUrl.split(':')[0]})`,
  );
} catch (error) {
  app.log.error({ err: error }, 'could not start');
  await app.close();
  process.exit(1);
}
