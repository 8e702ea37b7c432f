import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { createDatabase } from './db/index.js';
import { migrateToLatest } from './db/migrate.js';
import { AppError } from './errors.js';
import { userCreate } from './users/services.js';

const USAGE = `Usage: chute <command> [options]

Commands:
  migrate                                        apply database migrations
  users:create --email E --password P [--staff]  create a user (staff may use the admin)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  const db = createDatabase(config.databaseUrl);
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
          options: { email: { type: 'string' }, password: { type: 'string' }, staff: { type: 'boolean', default: false } },
        });
        if (!values.email || !values.password) {
          console.error('users:create needs --email and --password');
          return 2;
        }
        await migrateToLatest(db);
        const user = await userCreate(db, { email: values.email, password: values.password, isStaff: values.staff ?? false });
        console.log(`created user ${user.id} <${user.email}>${user.is_staff ? ' (staff)' : ''}`);
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
  if (error instanceof ConfigError || error instanceof AppError) {
    console.error(`chute: ${error.message}`);
    process.exitCode = 1;
  } else if (error instanceof Error && error.name === 'TypeError' && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`chute: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
