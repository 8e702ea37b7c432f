// The options of createChute and its shortcuts, and their validation: a bad option stops
// createChute with a message naming it, as a bad variable stops the standalone server.
import type { IncomingMessage } from 'node:http';
import type { UploadStartEvent } from '../../../src/core/files/hooks.js';
import { type WebhookSettings, webhookSecretProblem, webhookUrlProblem } from '../../../src/core/events/settings.js';
import type { FileJson } from '../../../src/core/files/json.js';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { ACLS, MAX_FILE_SIZE, MEDIA_TYPE_PATTERN, S3_URL_EXPIRY, UPLOAD_DEFAULTS } from '../../../src/config.js';

/** Who the host says is asking: its own user id (opaque to Chute) and whether they are staff. */
export interface ChuteUser {
  id: string | number;
  isStaff?: boolean;
}

export type ChuteStorageOptions =
  | { type: 'local'; root: string }
  | {
      type: 's3';
      bucket: string;
      region: string;
      endpoint?: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
      acl?: string;
      customDomain?: string;
    };

export interface ChuteLimits {
  /** largest upload in bytes (10 MiB by default) */
  maxSize?: number;
  /** media types or patterns accepted (`image/*`, `application/pdf`); any when unset */
  allowedTypes?: string[];
  /** seconds a presigned upload stays usable (at most a week) */
  presignedExpiry?: number;
  /** seconds a download URL stays usable (at most a week with S3, which refuses longer presigned URLs) */
  urlExpiry?: number;
}

/** A file record as the API answers it (`id`, `original_file_name`, `file_type`, `file_size`, `url`, ...). */
export type ChuteFileJson = FileJson;

/** onUploadStart's event: `user` is what the host's `authenticate` returned, as it was. */
export interface ChuteUploadStartEvent<User extends ChuteUser = ChuteUser> extends Omit<UploadStartEvent, 'user'> {
  user: User;
}

/**
 * onUploadStart (throw to refuse: an UploadRefusedError, or any error with `statusCode` and `code`,
 * is answered as that status and code), onUploadFinished and onFileDeleted (the file record).
 */
export interface ChuteHooks<User extends ChuteUser = ChuteUser> {
  /** before a user's upload gets a record (direct start, standard upload, multipart and Uppy creates) */
  onUploadStart?(event: ChuteUploadStartEvent<User>): void | Promise<void>;
  /** once per file, when it becomes valid; awaited before the request is answered */
  onUploadFinished?(file: FileJson): void | Promise<void>;
  /** once per valid file, after its object and record are gone (`url` is null) */
  onFileDeleted?(file: FileJson): void | Promise<void>;
}

/** Where Chute reports its failures (500s, storage or database down, a failing hook): pino and console both fit. */
export interface ChuteLogger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info?(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
}

/** The request types the three entry points hand to `authenticate`. */
export type HostRequest = FastifyRequest | IncomingMessage | Request;

export interface ChuteOptions<Req = HostRequest, User extends ChuteUser = ChuteUser> {
  /** 'sqlite:<path>', 'postgres://...', or the host's own Kysely instance (left open by close()) */
  // biome-ignore lint/suspicious/noExplicitAny: the host's Kysely has its own schema; Chute touches only its chute_* tables
  database: string | Kysely<any>;
  storage: ChuteStorageOptions;
  /** where browsers reach the mount point, e.g. https://app.example.com/uploads */
  publicUrl: string;
  /** the framework's own request -> the user, or null (401 not_authenticated) */
  authenticate: (request: Req) => Promise<User | null> | User | null;
  limits?: ChuteLimits;
  /** the hooks' `user` is the object `authenticate` returned */
  hooks?: ChuteHooks<User>;
  /** Chute's failures (console by default; the Fastify plugin uses the host's app.log) */
  logger?: ChuteLogger;
  /** signs local download links; generated and kept in the database when absent */
  signingSecret?: string;
  /**
   * file.finished and file.deleted as Standard Webhooks, from a durable outbox in the database
   * (another service hears of files; code in this process can use `hooks`)
   */
  webhooks?: WebhookSettings;
}

/** Options checked and completed with the defaults. */
export interface ResolvedOptions<Req = HostRequest, User extends ChuteUser = ChuteUser>
  extends ChuteOptions<Req, User> {
  /** publicUrl without a trailing slash */
  publicUrl: string;
  /** publicUrl's path without a trailing slash ('' at the root): the fetch handler's mount path */
  mountPath: string;
  limits: Required<Omit<ChuteLimits, 'allowedTypes'>> & { allowedTypes: string[] };
}

export class ChuteOptionsError extends TypeError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`@chute/server: ${option ? `options.${option}` : 'the options'} ${message}`);
    this.name = 'ChuteOptionsError';
  }
}

const KNOWN = [
  'database',
  'storage',
  'publicUrl',
  'authenticate',
  'limits',
  'hooks',
  'logger',
  'signingSecret',
  'webhooks',
];
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
const shown = (value: unknown) =>
  typeof value === 'function' ? 'a function' : (JSON.stringify(value) ?? String(value));

function checkKeys(object: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key))
      throw new ChuteOptionsError(`${prefix}${key}`, `is not an option (known: ${known.join(', ')})`);
  }
}

function checkDatabase(database: unknown): void {
  if (typeof database === 'string') {
    if (/^sqlite:.+/.test(database) || /^postgres(ql)?:\/\/.+/.test(database)) return;
    throw new ChuteOptionsError('database', 'must be "sqlite:<path>", "postgres://..." or a Kysely instance');
  }
  const looksLikeKysely =
    isObject(database) && typeof database.selectFrom === 'function' && typeof database.destroy === 'function';
  if (!looksLikeKysely)
    throw new ChuteOptionsError('database', `must be a connection string or a Kysely instance, got ${shown(database)}`);
}

function checkStorage(storage: unknown): void {
  if (!isObject(storage))
    throw new ChuteOptionsError(
      'storage',
      "must be { type: 'local', root } or { type: 's3', bucket, region, credentials }",
    );
  if (storage.type === 'local') {
    checkKeys(storage, ['type', 'root'], 'storage.');
    if (!isText(storage.root)) throw new ChuteOptionsError('storage.root', 'must be the folder files are kept in');
    return;
  }
  if (storage.type !== 's3')
    throw new ChuteOptionsError('storage.type', `must be "local" or "s3", got ${shown(storage.type)}`);
  checkKeys(storage, ['type', 'bucket', 'region', 'endpoint', 'credentials', 'acl', 'customDomain'], 'storage.');
  if (!isText(storage.bucket) || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(storage.bucket))
    throw new ChuteOptionsError('storage.bucket', `must be a bucket name, got ${shown(storage.bucket)}`);
  if (!isText(storage.region)) throw new ChuteOptionsError('storage.region', 'must be a region name like us-east-1');
  if (storage.endpoint !== undefined && !isHttpUrl(storage.endpoint))
    throw new ChuteOptionsError('storage.endpoint', `must be an http(s) URL, got ${shown(storage.endpoint)}`);
  const credentials = storage.credentials;
  if (!isObject(credentials) || !isText(credentials.accessKeyId) || !isText(credentials.secretAccessKey))
    throw new ChuteOptionsError('storage.credentials', 'must be { accessKeyId, secretAccessKey }');
  if (storage.acl !== undefined && !(ACLS as readonly unknown[]).includes(storage.acl))
    throw new ChuteOptionsError('storage.acl', `must be one of ${ACLS.join(', ')}`);
  if (
    storage.customDomain !== undefined &&
    !(isText(storage.customDomain) && /^[a-z0-9.-]+(:\d+)?(\/\S*)?$/i.test(storage.customDomain))
  )
    throw new ChuteOptionsError(
      'storage.customDomain',
      `must be a host name like cdn.example.com, got ${shown(storage.customDomain)}`,
    );
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

const wholeNumber = (name: string, value: unknown, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new ChuteOptionsError(`limits.${name}`, `must be a whole number from ${min} to ${max}, got ${shown(value)}`);
  return value;
};

function resolveLimits(limits: unknown, storage: ChuteStorageOptions): ResolvedOptions['limits'] {
  if (limits === undefined) limits = {};
  if (!isObject(limits)) throw new ChuteOptionsError('limits', 'must be an object');
  checkKeys(limits, ['maxSize', 'allowedTypes', 'presignedExpiry', 'urlExpiry'], 'limits.');
  const types = limits.allowedTypes ?? [];
  if (!Array.isArray(types)) throw new ChuteOptionsError('limits.allowedTypes', 'must be an array of media types');
  const allowedTypes = types.map((type) => {
    const normal = typeof type === 'string' ? type.trim().toLowerCase() : '';
    if (!MEDIA_TYPE_PATTERN.test(normal))
      throw new ChuteOptionsError(
        'limits.allowedTypes',
        `${shown(type)} is not a media type or pattern like image/* or application/pdf`,
      );
    return normal;
  });
  return {
    maxSize: wholeNumber('maxSize', limits.maxSize, 1, MAX_FILE_SIZE) ?? UPLOAD_DEFAULTS.maxSize,
    allowedTypes,
    presignedExpiry:
      wholeNumber('presignedExpiry', limits.presignedExpiry, 1, UPLOAD_DEFAULTS.presignedExpiryMax) ??
      UPLOAD_DEFAULTS.presignedExpiry,
    // S3 refuses a presigned URL that lives longer than a week; a local signed link may
    urlExpiry:
      wholeNumber(
        'urlExpiry',
        limits.urlExpiry,
        1,
        storage.type === 's3' ? S3_URL_EXPIRY.seconds : Number.MAX_SAFE_INTEGER,
      ) ?? UPLOAD_DEFAULTS.urlExpiry,
  };
}

function checkHooks(hooks: unknown): void {
  if (hooks === undefined) return;
  if (!isObject(hooks)) throw new ChuteOptionsError('hooks', 'must be an object of functions');
  checkKeys(hooks, ['onUploadStart', 'onUploadFinished', 'onFileDeleted'], 'hooks.');
  for (const [name, hook] of Object.entries(hooks)) {
    if (hook !== undefined && typeof hook !== 'function')
      throw new ChuteOptionsError(`hooks.${name}`, 'must be a function');
  }
}

/** Checks every option (the first bad one is the one reported) and fills in the defaults. */
function checkWebhooks(webhooks: unknown): void {
  if (webhooks === undefined) return;
  if (!isObject(webhooks)) throw new ChuteOptionsError('webhooks', 'must be an object: { urls, secret }');
  checkKeys(webhooks, ['urls', 'secret'], 'webhooks.');
  const { urls, secret } = webhooks;
  if (!Array.isArray(urls) || urls.length === 0)
    throw new ChuteOptionsError('webhooks.urls', `must be a list of one or more endpoint URLs, got ${shown(urls)}`);
  for (const url of urls) {
    const problem = typeof url === 'string' ? webhookUrlProblem(url) : `${shown(url)} is not a URL`;
    if (problem) throw new ChuteOptionsError('webhooks.urls', problem);
  }
  const problem = typeof secret === 'string' ? webhookSecretProblem(secret) : 'must be a string';
  if (problem) throw new ChuteOptionsError('webhooks.secret', problem);
}

function checkLogger(logger: unknown): void {
  if (logger === undefined) return;
  if (!isObject(logger) || typeof logger.error !== 'function' || typeof logger.warn !== 'function')
    throw new ChuteOptionsError('logger', 'must have error() and warn() methods (pino, console)');
}

export function resolveOptions<Req, User extends ChuteUser>(
  options: ChuteOptions<Req, User>,
): ResolvedOptions<Req, User> {
  if (!isObject(options))
    throw new ChuteOptionsError('', 'must be an object: { database, storage, publicUrl, authenticate }');
  checkKeys(options, KNOWN, '');
  checkDatabase(options.database);
  checkStorage(options.storage);
  if (!isHttpUrl(options.publicUrl) || /[?#]/.test(options.publicUrl))
    throw new ChuteOptionsError(
      'publicUrl',
      `must be the absolute http(s) URL of the mount point, like https://app.example.com/uploads, got ${shown(options.publicUrl)}`,
    );
  if (typeof options.authenticate !== 'function')
    throw new ChuteOptionsError('authenticate', 'must be a function (request) => { id, isStaff? } | null');
  const limits = resolveLimits(options.limits, options.storage);
  checkHooks(options.hooks);
  checkLogger(options.logger);
  checkWebhooks(options.webhooks);
  if (
    options.signingSecret !== undefined &&
    !(typeof options.signingSecret === 'string' && options.signingSecret.length >= 32)
  )
    throw new ChuteOptionsError('signingSecret', 'must be a string of at least 32 characters');
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  return { ...options, publicUrl, mountPath: new URL(publicUrl).pathname.replace(/\/+$/, ''), limits };
}
