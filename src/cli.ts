import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, parseDuration } from './config.js';
import { openDatabase } from './db/index.js';
import { migrateToLatest } from './db/migrate.js';
import { AppError } from './errors.js';
import { S3SetupError } from './ops/s3-setup-error.js';
import { userCreate } from './users/services.js';

const USAGE = `Usage: chute <command> [options]

Commands:
  migrate        apply the database migrations (they also run at every start)
  users:create   create a user: --email E --password P [--staff] (staff may use /admin)
  s3:setup       set the bucket's CORS and multipart lifecycle: [--create-bucket] [--dry-run] [--abort-incomplete-days 7]
  static:publish upload the web app's built assets to the bucket under STATIC_PREFIX, for STATIC_URL: [--dry-run]
  webhooks:replay  send again the webhooks of events since --since (e.g. 1h, 2d), delivered ones too
  cleanup        delete uploads never finished, started before --older-than (default FILE_CLEANUP_OLDER_THAN, 24h)
  help           this list of commands (also --help, -h)

Settings come from the environment (APP_DOMAIN, DATABASE_URL, FILE_UPLOAD_STORAGE, AWS_*, ...): see the README.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || ['help', '--help', '-h'].includes(command)) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  // loaded on demand: the AWS SDK is not needed to create a user
  if (command === 's3:setup') return (await import('./ops/s3-setup.js')).s3SetupCommand(config, rest);
  if (command === 'static:publish') return (await import('./ops/static-publish.js')).staticPublishCommand(config, rest);
  // a command writes too little for a checkpoint worker to pay for its start
  const db = openDatabase(config, { backgroundCheckpoints: false });
  try {
    switch (command) {
      case 'migrate': {
        const applied = await migrateToLatest(db);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
        return 0;
      }
      case 'users:create': {
        const { values } = parseArgs({
          args: rest,
          options: {
            email: { type: 'string' },
            password: { type: 'string' },
            staff: { type: 'boolean', default: false },
          },
        });
        if (!values.email || !values.password) {
          console.error('users:create needs --email and --password');
          return 2;
        }
        await migrateToLatest(db);
        const user = await userCreate(db, {
          email: values.email,
          password: values.password,
          isStaff: values.staff ?? false,
        });
        console.log(`created user ${user.id} <${user.email}>${user.is_staff ? ' (staff)' : ''}`);
        return 0;
      }
      case 'cleanup': {
        const { values } = parseArgs({ args: rest, options: { 'older-than': { type: 'string' } } });
        const olderThan =
          values['older-than'] === undefined ? config.cleanup.olderThanSeconds : parseDuration(values['older-than']);
        if (olderThan === null || olderThan < 1) {
          console.error(`--older-than must be a duration like 30s, 15m, 24h or 7d, got "${values['older-than']}"`);
          return 2;
        }
        await migrateToLatest(db);
        const [{ cleanupRun }, { filesContextOf }] = await Promise.all([
          import('./ops/cleanup.js'),
          import('./ops/context.js'),
        ]);
        const outcome = await cleanupRun(await filesContextOf(config, db), { olderThanSeconds: olderThan });
        if (!outcome.acquired) {
          const holder = outcome.holder
            ? ` (held by ${outcome.holder.owner} until ${outcome.holder.expiresAt.toISOString()})`
            : '';
          console.log(`another cleanup is running${holder}; nothing done`);
          return 0;
        }
        const { removed, failed, cutoff, orphans } = outcome.result;
        console.log(
          removed.length
            ? `removed ${removed.length} unfinished upload${removed.length === 1 ? '' : 's'} started before ${cutoff.toISOString()}: ids ${removed.join(', ')}`
            : `nothing to remove: no unfinished upload started before ${cutoff.toISOString()}`,
        );
        if (orphans)
          console.log(
            `removed ${orphans} temp file${orphans === 1 ? '' : 's'} or part folder${orphans === 1 ? '' : 's'} left by uploads whose process died`,
          );
        for (const failure of failed)
          console.error(`could not delete the stored data of ${failure.id} (${failure.key}): ${failure.reason}`);
        return failed.length ? 1 : 0;
      }
      case 'webhooks:replay': {
        const { values } = parseArgs({ args: rest, options: { since: { type: 'string' } } });
        const since = values.since === undefined ? null : parseDuration(values.since);
        if (since === null || since < 1) {
          console.error(`webhooks:replay needs --since, a duration like 30m, 1h or 2d, got "${values.since ?? ''}"`);
          return 2;
        }
        await migrateToLatest(db);
        const { replayDeliveriesSince } = await import('./core/events/outbox.js');
        const from = new Date(Date.now() - since * 1000);
        const count = await replayDeliveriesSince(db, { since: from.getTime() });
        console.log(
          `${count} deliver${count === 1 ? 'y' : 'ies'} of events since ${from.toISOString()} will be sent again by the running server${config.webhooks ? '' : ' (WEBHOOK_URLS is not set here; the server needs it to send them)'}`,
        );
        return 0;
      }
      default:
        console.error(`unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } finally {
    await db.destroy();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError || error instanceof AppError || error instanceof S3SetupError) {
    console.error(`chute: ${error.message}`);
    process.exitCode = 1;
  } else if (
    error instanceof Error &&
    error.name === 'TypeError' &&
    'code' in error &&
    String(error.code).startsWith('ERR_PARSE_ARGS')
  ) {
    console.error(`chute: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
