// The upload core a mounted Chute runs on: its database (migrated at first use), storage and
// policy, built from the options; and the host's `authenticate` as the file API's Authenticator.
import { mkdir } from 'node:fs/promises';
import type { FastifyRequest } from 'fastify';
import { type Actor, MAX_ACTOR_ID_LENGTH } from '../../../src/core/actor.js';
import { type DeliveryLog, startWebhookDelivery, type WebhookDelivery } from '../../../src/core/events/delivery.js';
import { type HookLogger, type UploadHooks, writeOwedEvents } from '../../../src/core/files/hooks.js';
import type { FilesContext } from '../../../src/core/files/services.js';
import { getOrCreateSigningSecret } from '../../../src/core/secrets.js';
import { createUrlSigner } from '../../../src/core/signing.js';
import { LocalStorage, S3Storage, type StorageBackend } from '../../../src/core/storage/index.js';
import { createDatabase, type Db } from '../../../src/db/index.js';
import { migrateToLatest } from '../../../src/db/migrate.js';
import type { Authentication, Authenticator } from '../../../src/http/plugins/auth.js';
import { UPLOAD_DEFAULTS } from '../../../src/config.js';
import { PRIVATE_DIR_MODE } from '../../../src/fs-modes.js';
import type { ChuteHooks, ChuteLogger, ChuteOptions, ChuteUser, ResolvedOptions } from './options.js';

export interface Core {
  files: FilesContext;
  /** closes what Chute opened (a database it was given as a string), never the host's Kysely */
  close(): Promise<void>;
}

/** A database from the option: opened here for a string (and owned), the host's own otherwise. */
function databaseOf(database: ChuteOptions['database']): { db: Db; owned: boolean } {
  return typeof database === 'string'
    ? { db: createDatabase(database), owned: true }
    : { db: database as Db, owned: false };
}

/** Runs Chute's migrations on a database ('sqlite:...', 'postgres://...' or a Kysely); returns the names applied. */
export async function migrate(database: ChuteOptions['database']): Promise<string[]> {
  const { db, owned } = databaseOf(database);
  try {
    return await migrateToLatest(db);
  } finally {
    if (owned) await db.destroy();
  }
}

function storageOf({ storage, publicUrl, limits }: ResolvedOptions<unknown>, secret: string): StorageBackend {
  if (storage.type === 'local')
    return new LocalStorage({ root: storage.root, appDomain: publicUrl, signer: createUrlSigner(secret) });
  return new S3Storage({
    ...storage.credentials,
    bucket: storage.bucket,
    region: storage.region,
    endpoint: storage.endpoint ?? null,
    defaultAcl: storage.acl ?? UPLOAD_DEFAULTS.acl,
    presignedExpiry: limits.presignedExpiry,
    customDomain: storage.customDomain ?? null,
  });
}

export async function openCore(options: ResolvedOptions<unknown>): Promise<Core> {
  const { db, owned } = databaseOf(options.database);
  const close = async () => {
    if (owned) await db.destroy();
  };
  try {
    await migrateToLatest(db);
    const storage = storageOf(options, options.signingSecret ?? (await getOrCreateSigningSecret(db)));
    if (storage instanceof LocalStorage) {
      await mkdir(storage.root, { recursive: true, mode: PRIVATE_DIR_MODE }); // the host names it; it may not exist yet
      await storage.removeStaleTempFiles();
    }
    const { maxSize, allowedTypes, presignedExpiry, urlExpiry } = options.limits;
    let delivery: WebhookDelivery | undefined;
    const files: FilesContext = {
      db,
      storage,
      policy: { maxSize, allowedTypes, presignedExpiry, urlExpiry },
      ...(options.hooks && { hooks: coreHooks(options.hooks) }),
      ...(options.logger && { log: hookLogger(options.logger) }),
      ...(options.webhooks && { events: { urls: [...new Set(options.webhooks.urls)], wake: () => delivery?.wake() } }),
    };
    // this process's share of the webhook deliveries: runs while the core is open
    if (options.webhooks)
      delivery = startWebhookDelivery({
        db,
        secret: options.webhooks.secret,
        log: hookLogger(options.logger ?? console),
        collect: (limit) => writeOwedEvents(files, { limit }),
      });
    return {
      files,
      async close() {
        await delivery?.stop();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The host's hooks as the core calls them: onUploadStart gets the host's own user back. */
function coreHooks(hooks: ChuteHooks<ChuteUser>): UploadHooks {
  const { onUploadStart } = hooks;
  return {
    ...hooks,
    ...(onUploadStart && {
      onUploadStart: ({ user, ...event }) =>
        onUploadStart.call(hooks, { ...event, user: (user.host as ChuteUser | undefined) ?? { id: user.id } }),
    }),
  };
}

/** A host's logger (pino: object first; console prints both) as the core reports a failing hook or delivery. */
export const hookLogger = (logger: Pick<ChuteLogger, 'error' | 'warn'>): HookLogger & DeliveryLog => ({
  error: (details, message) => logger.error(details, message),
  warn: (details, message) => logger.warn(details, message),
});

/** The host's user as the core's Actor: the one place a host id is turned into Chute's (text). */
export function actorOf(user: ChuteUser): Actor {
  const { id } = user;
  const valid =
    (typeof id === 'string' && id !== '' && id.length <= MAX_ACTOR_ID_LENGTH) ||
    (typeof id === 'number' && Number.isSafeInteger(id));
  if (!valid) {
    throw new Error(
      `@chute/server: authenticate() returned the user id ${JSON.stringify(id)}; ids are whole numbers or strings of 1 to ${MAX_ACTOR_ID_LENGTH} characters`,
    );
  }
  return { id: String(id), isStaff: user.isStaff === true, host: user };
}

/**
 * Chute cannot know how the host authenticated a request. One carrying a Cookie header and no
 * Authorization header is taken as cookie-authenticated, so its writes get the Origin check
 * (a cross-site page can make the browser send cookies, never an Authorization header).
 */
const viaOf = (request: FastifyRequest): Authentication['via'] =>
  request.headers.cookie !== undefined && request.headers.authorization === undefined ? 'cookie' : 'header';

/** The host's `authenticate`, asked with the framework's own request (`hostRequestOf`). */
export function hostAuthenticator<Req>(
  authenticate: ChuteOptions<Req>['authenticate'],
  hostRequestOf: (request: FastifyRequest) => Req,
): Authenticator {
  return {
    async authenticate(request) {
      const user = await authenticate(hostRequestOf(request));
      if (user === null || user === undefined) return null;
      if (typeof user !== 'object')
        throw new Error('@chute/server: authenticate() must return { id, isStaff? } or null');
      return { actor: actorOf(user), via: viaOf(request) };
    },
  };
}
