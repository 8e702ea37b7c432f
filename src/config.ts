// All configuration is read and validated here, once, at boot. A bad value stops the start
// with a message naming the variable; nothing else in the code reads process.env.

import { type WebhookSettings, webhookSecretProblem, webhookUrlProblem } from './core/events/settings.js';
import { MAX_SIGNED_SECONDS, MULTIPART } from './core/storage/types.js';

export type StorageKind = 'local' | 's3';

/**
 * SQLite's `synchronous` in WAL mode (SQLITE_SYNCHRONOUS). normal: a commit is in the WAL file when
 * it returns, so it survives the process being killed; the WAL reaches the disk at checkpoints, so a
 * power loss or OS crash may take back the last commits (never corrupting the file). full: the WAL
 * is synced at every commit, so an answered change survives a power loss too, for an fsync per write.
 */
const SQLITE_SYNCHRONOUS = ['normal', 'full'] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS)[number];

export interface S3Config {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  region: string;
  endpoint: string | null;
  defaultAcl: string;
  presignedExpiry: number;
  customDomain: string | null;
}

/**
 * Tokens from an identity system the deployment already has (AUTH_JWT_*, AUTH_JWKS_URL). At least
 * one of `secret` and `jwksUrl` is set, else the whole setting is null.
 */
export interface JwtConfig {
  /** AUTH_JWT_SECRET: verifies HS256 tokens */
  secret: string | null;
  /** AUTH_JWKS_URL: the public keys that verify RS256 and ES256 tokens */
  jwksUrl: string | null;
  /** AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE: when set, a token's `iss` / `aud` must match */
  issuer: string | null;
  audience: string | null;
  /** AUTH_JWT_STAFF_CLAIM `role=admin`: the claim equal to the value (or an array holding it) makes staff */
  staffClaim: { claim: string; value: string } | null;
}

export interface Config {
  appDomain: string;
  host: string;
  port: number;
  databaseUrl: string;
  /** PostgreSQL: longest a statement of a request may run (DATABASE_STATEMENT_TIMEOUT) */
  databaseStatementTimeoutSeconds: number;
  /** PostgreSQL: the hot statements prepared once per connection (DATABASE_PREPARED_STATEMENTS) */
  databasePreparedStatements: boolean;
  /** SQLite: when a commit reaches the disk (SQLITE_SYNCHRONOUS; see createDatabase) */
  sqliteSynchronous: SqliteSynchronous;
  mediaRoot: string;
  storage: StorageKind;
  fileMaxSize: number;
  /** FILE_MAX_SIZE_DIRECT / FILE_MAX_SIZE_STANDARD: per-path limits, FILE_MAX_SIZE when unset */
  fileMaxSizeDirect: number;
  fileMaxSizeStandard: number;
  /** FILE_ADMIN_MAX_SIZE: largest file staff add or replace through the server (admin), FILE_MAX_SIZE when unset */
  fileAdminMaxSize: number;
  /** media-type patterns accepted (`image/*`, `application/pdf`); empty accepts any type */
  fileAllowedTypes: string[];
  /** FILE_VERIFY_CONTENT: an upload's first bytes must not contradict its declared type */
  fileVerifyContent: boolean;
  /** direct-upload starts per user per window */
  startRateLimit: { perUser: number; windowMs: number };
  /** abandoned-upload cleanup inside the server: off when intervalSeconds is null */
  cleanup: { intervalSeconds: number | null; olderThanSeconds: number };
  /** seconds a download link (presigned GET or signed local URL) stays valid */
  urlExpiry: number;
  s3: S3Config | null;
  /** presign expiry also applies to local direct-upload links */
  presignedExpiry: number;
  corsAllowedOrigins: string[];
  sessionTtlSeconds: number;
  /** bearer JWTs from an existing identity system, beside Chute's own sessions; null when off */
  jwt: JwtConfig | null;
  secretKey: string | null;
  loginRateLimit: { perIp: number; perEmail: number; windowMs: number };
  logLevel: LogLevel;
  /** LOG_FORMAT: readable lines (pino-pretty) or JSON; auto picks pretty when stdout is a terminal */
  logFormat: 'auto' | 'pretty' | 'json';
  serveWebApp: boolean;
  /**
   * STATIC_URL: where the web app's built assets are served from (a CDN or the bucket, after
   * `chute static:publish`), ending in '/'; null: from Chute itself. STATIC_PREFIX: the bucket
   * folder static:publish writes them under (`<prefix>assets/<file>`).
   */
  staticFiles: { url: string | null; prefix: string };
  /**
   * HTTP_IDLE_TIMEOUT: a connection with no bytes either way for this long is closed (a stalled
   * body; a slow one that keeps arriving goes on). HTTP_HEADERS_TIMEOUT: the request headers must
   * be in by then.
   */
  httpTimeouts: { idleSeconds: number; headersSeconds: number };
  /** WEBHOOK_URLS and WEBHOOK_SECRET: where file.finished and file.deleted are sent; null when off */
  webhooks: WebhookSettings | null;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(
    public readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** "10485760", "10MiB", "100 MB" -> bytes */
export function parseSize(raw: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  if (!match) return null;
  const unit = SIZE_UNITS[match[2]!.toLowerCase()];
  if (unit === undefined) return null;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : null;
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** "30", "30s", "15m", "24h", "7d" -> seconds */
export function parseDuration(raw: string): number | null {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/i.exec(raw);
  if (!match) return null;
  return Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!;
}

function reader(env: Env) {
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const required = (name: string, why: string): string => {
    const value = get(name);
    if (value === undefined) throw new ConfigError(name, `is required ${why}`);
    return value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
    return value;
  };
  const size = (name: string, fallback: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = parseSize(raw);
    if (value === null || value < 1)
      throw new ConfigError(name, `must be a size in bytes like 10485760 or 10MiB, got "${raw}"`);
    return value;
  };
  const duration = (name: string, fallback: number, min: number, max?: { seconds: number; why: string }): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = parseDuration(raw);
    if (value === null || value < min)
      throw new ConfigError(name, `must be a duration of at least ${min}s like 60, 15m, 24h or 7d, got "${raw}"`);
    if (max && value > max.seconds)
      throw new ConfigError(name, `must be at most ${max.seconds}s (${max.why}), got "${raw}"`);
    return value;
  };
  const boolean = (name: string, fallback: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    throw new ConfigError(name, `must be true or false, got "${raw}"`);
  };
  const url = (name: string, fallback: string | null): string | null => {
    const raw = get(name) ?? fallback;
    if (raw === null) return null;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(name, `must be an absolute http(s) URL, got "${raw}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
    }
    return raw.replace(/\/+$/, '');
  };
  const choice = <T extends string>(name: string, choices: readonly T[], fallback: T): T => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw))
      throw new ConfigError(name, `must be one of ${choices.join(', ')}, got "${raw}"`);
    return raw as T;
  };
  return { get, required, integer, size, duration, boolean, url, choice };
}

export const ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
] as const;
export const MAX_FILE_SIZE = MULTIPART.maxObjectSize; // S3's largest object (multipart); one POST stops at 5 GiB

/** The longest a download URL lives with S3 storage (AWS_QUERYSTRING_EXPIRE, limits.urlExpiry). */
export const S3_URL_EXPIRY = { seconds: MAX_SIGNED_SECONDS, why: 'S3 refuses presigned URLs valid for longer than 7d' };

/** The upload settings' defaults, for the environment here and @chute/server's options alike. */
export const UPLOAD_DEFAULTS = {
  maxSize: 10 * 2 ** 20,
  presignedExpiry: 60,
  presignedExpiryMax: MAX_SIGNED_SECONDS,
  urlExpiry: 3600,
  acl: 'private',
} as const;

/** A media type or pattern a file's type is matched against: image/*, application/pdf. */
export const MEDIA_TYPE_PATTERN = /^([a-z0-9][a-z0-9!#$&^_.+-]*)\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;

type Reader = ReturnType<typeof reader>;

function storageKind(r: Reader): StorageKind {
  const storage = (r.get('FILE_UPLOAD_STORAGE') ?? 'local').toLowerCase();
  if (storage !== 'local' && storage !== 's3') {
    throw new ConfigError('FILE_UPLOAD_STORAGE', `must be "local" or "s3", got "${storage}"`);
  }
  return storage;
}

function databaseUrlOf(r: Reader): string {
  const databaseUrl = r.get('DATABASE_URL') ?? 'sqlite:./data/chute.sqlite';
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be sqlite:<path> or postgres://user:pass@host:port/db');
  }
  return databaseUrl;
}

/** a size limit: `fallback` when unset, never over S3's largest object */
function maxSize(r: Reader, name: string, fallback: number): number {
  const value = r.size(name, fallback);
  if (value > MAX_FILE_SIZE) throw new ConfigError(name, 'must be at most 5TiB (the largest S3 object)');
  return value;
}

function allowedTypes(r: Reader): string[] {
  const types = (r.get('FILE_ALLOWED_TYPES') ?? '')
    .split(',')
    .map((type) => type.trim().toLowerCase())
    .filter(Boolean);
  for (const type of types) {
    if (!MEDIA_TYPE_PATTERN.test(type)) {
      throw new ConfigError(
        'FILE_ALLOWED_TYPES',
        `"${type}" is not a media type or pattern like image/* or application/pdf`,
      );
    }
  }
  return types;
}

function s3Config(r: Reader, presignedExpiry: number): S3Config {
  const why = 'when FILE_UPLOAD_STORAGE=s3';
  const defaultAcl = r.choice('AWS_DEFAULT_ACL', ACLS, UPLOAD_DEFAULTS.acl);
  const customDomain = r.get('AWS_S3_CUSTOM_DOMAIN') ?? null;
  if (customDomain !== null && !/^[a-z0-9.-]+(:\d+)?(\/[^\s]*)?$/i.test(customDomain)) {
    throw new ConfigError('AWS_S3_CUSTOM_DOMAIN', `must be a host name like cdn.example.com, got "${customDomain}"`);
  }
  const bucket = r.required('AWS_STORAGE_BUCKET_NAME', why);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError('AWS_STORAGE_BUCKET_NAME', `"${bucket}" is not a valid bucket name`);
  }
  return {
    accessKeyId: r.required('AWS_S3_ACCESS_KEY_ID', why),
    secretAccessKey: r.required('AWS_S3_SECRET_ACCESS_KEY', why),
    bucket,
    region: r.get('AWS_S3_REGION_NAME') ?? 'us-east-1',
    endpoint: r.url('AWS_S3_ENDPOINT_URL', null),
    defaultAcl,
    presignedExpiry,
    customDomain,
  };
}

function corsOrigins(r: Reader): string[] {
  return (r.get('CORS_ALLOWED_ORIGINS') ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
    .map((origin) => {
      try {
        const parsed = new URL(origin);
        if (parsed.origin === 'null' || parsed.origin !== origin.replace(/\/+$/, '')) throw new Error();
        return parsed.origin;
      } catch {
        throw new ConfigError('CORS_ALLOWED_ORIGINS', `"${origin}" is not an origin like https://app.example.com`);
      }
    });
}

// HS256 keys shorter than the hash (32 bytes) are refused by the JWA spec (RFC 7518 3.2)
export const JWT_SECRET_MIN_BYTES = 32;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The JWKS URL: https, since whoever can change the keys can sign in as anyone (http on loopback only). */
function jwksUrlOf(r: Reader): string | null {
  const raw = r.get('AUTH_JWKS_URL');
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('AUTH_JWKS_URL', `must be an absolute https URL, got "${raw}"`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new ConfigError('AUTH_JWKS_URL', `must be an https URL (http only on localhost), got "${raw}"`);
  }
  return url.href;
}

function webhooksOf(r: Reader): WebhookSettings | null {
  const urls = (r.get('WEBHOOK_URLS') ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  for (const url of urls) {
    const problem = webhookUrlProblem(url);
    if (problem) throw new ConfigError('WEBHOOK_URLS', problem);
  }
  if (urls.length === 0) return null;
  const secret = r.required('WEBHOOK_SECRET', 'when WEBHOOK_URLS is set');
  const problem = webhookSecretProblem(secret);
  if (problem) throw new ConfigError('WEBHOOK_SECRET', problem);
  return { urls: [...new Set(urls)], secret };
}

function staticFilesOf(r: Reader): Config['staticFiles'] {
  const prefix = r.get('STATIC_PREFIX') ?? 'static/';
  if (!/^([A-Za-z0-9._-]+\/)+$/.test(prefix) || prefix.split('/').some((part) => part === '.' || part === '..'))
    throw new ConfigError('STATIC_PREFIX', `must be a bucket folder like static/ (ending in /), got "${prefix}"`);
  const url = r.url('STATIC_URL', null);
  const raw = r.get('STATIC_URL');
  if (url !== null && (!raw?.endsWith('/') || /[?#]/.test(raw)))
    throw new ConfigError('STATIC_URL', `must be the URL of the assets' folder, ending in /, got "${raw}"`);
  return { url: url === null ? null : `${url}/`, prefix };
}

function staffClaimOf(r: Reader): JwtConfig['staffClaim'] {
  const raw = r.get('AUTH_JWT_STAFF_CLAIM');
  if (raw === undefined) return null;
  const match = /^([^=\s]+)=(.+)$/.exec(raw);
  if (!match) throw new ConfigError('AUTH_JWT_STAFF_CLAIM', `must be claim=value like role=admin, got "${raw}"`);
  return { claim: match[1]!, value: match[2]! };
}

function jwtConfig(r: Reader): JwtConfig | null {
  const secret = r.get('AUTH_JWT_SECRET') ?? null;
  if (secret !== null && Buffer.byteLength(secret) < JWT_SECRET_MIN_BYTES) {
    throw new ConfigError('AUTH_JWT_SECRET', `must be at least ${JWT_SECRET_MIN_BYTES} bytes long (HS256)`);
  }
  const jwksUrl = jwksUrlOf(r);
  const rest = {
    issuer: r.get('AUTH_JWT_ISSUER') ?? null,
    audience: r.get('AUTH_JWT_AUDIENCE') ?? null,
    staffClaim: staffClaimOf(r),
  };
  if (secret === null && jwksUrl === null) {
    // a claim check with no key to verify tokens by is a typo or a forgotten variable, not a wish
    const orphan = (['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_JWT_STAFF_CLAIM'] as const).find((name) =>
      r.get(name),
    );
    if (orphan) throw new ConfigError(orphan, 'needs AUTH_JWT_SECRET or AUTH_JWKS_URL to be set');
    return null;
  }
  return { secret, jwksUrl, ...rest };
}

/** Reads and checks every variable, in this order (the first bad one is the one reported). */
export function loadConfig(env: Env = process.env): Config {
  const r = reader(env);
  const storage = storageKind(r);
  const databaseUrl = databaseUrlOf(r);
  const fileMaxSize = maxSize(r, 'FILE_MAX_SIZE', UPLOAD_DEFAULTS.maxSize);
  const fileAllowedTypes = allowedTypes(r);
  const presignedExpiry = r.integer(
    'AWS_PRESIGNED_EXPIRY',
    UPLOAD_DEFAULTS.presignedExpiry,
    1,
    UPLOAD_DEFAULTS.presignedExpiryMax,
  );
  const s3 = storage === 's3' ? s3Config(r, presignedExpiry) : null;
  const corsAllowedOrigins = corsOrigins(r);

  const port = r.integer('PORT', 8000, 0, 65535);
  return {
    // unset, it follows PORT: `PORT=3000 npm start` must not hand out upload urls on :8000
    appDomain: r.url('APP_DOMAIN', `http://localhost:${port}`)!,
    host: r.get('HOST') ?? '127.0.0.1',
    port,
    databaseUrl,
    databaseStatementTimeoutSeconds: r.duration('DATABASE_STATEMENT_TIMEOUT', 30, 1),
    databasePreparedStatements: r.boolean('DATABASE_PREPARED_STATEMENTS', true),
    sqliteSynchronous: r.choice('SQLITE_SYNCHRONOUS', SQLITE_SYNCHRONOUS, 'normal'),
    mediaRoot: r.get('MEDIA_ROOT') ?? './data/media',
    storage,
    fileMaxSize,
    fileMaxSizeDirect: maxSize(r, 'FILE_MAX_SIZE_DIRECT', fileMaxSize),
    fileMaxSizeStandard: maxSize(r, 'FILE_MAX_SIZE_STANDARD', fileMaxSize),
    fileAdminMaxSize: maxSize(r, 'FILE_ADMIN_MAX_SIZE', fileMaxSize),
    fileAllowedTypes,
    fileVerifyContent: r.boolean('FILE_VERIFY_CONTENT', true),
    startRateLimit: { perUser: r.integer('START_RATE_LIMIT', 600, 1, 1_000_000), windowMs: 60_000 },
    cleanup: {
      intervalSeconds: r.get('FILE_CLEANUP_INTERVAL') === undefined ? null : r.duration('FILE_CLEANUP_INTERVAL', 0, 1),
      olderThanSeconds: r.duration('FILE_CLEANUP_OLDER_THAN', 24 * 3600, 1),
    },
    // S3 refuses a presigned URL that lives longer than a week; a local signed link may
    urlExpiry: r.duration(
      'AWS_QUERYSTRING_EXPIRE',
      UPLOAD_DEFAULTS.urlExpiry,
      1,
      storage === 's3' ? S3_URL_EXPIRY : undefined,
    ),
    s3,
    presignedExpiry,
    corsAllowedOrigins,
    sessionTtlSeconds: r.duration('SESSION_TTL', 14 * 86400, 60),
    jwt: jwtConfig(r),
    secretKey: r.get('SECRET_KEY') ?? null,
    loginRateLimit: {
      perIp: r.integer('LOGIN_RATE_LIMIT_PER_IP', 30, 1, 1_000_000),
      perEmail: r.integer('LOGIN_RATE_LIMIT_PER_EMAIL', 10, 1, 1_000_000),
      windowMs: 60_000,
    },
    logLevel: r.choice('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: r.choice('LOG_FORMAT', ['auto', 'pretty', 'json'] as const, 'auto'),
    serveWebApp: r.boolean('SERVE_WEB_APP', true),
    staticFiles: staticFilesOf(r),
    webhooks: webhooksOf(r),
    httpTimeouts: {
      idleSeconds: r.duration('HTTP_IDLE_TIMEOUT', 60, 1),
      headersSeconds: r.duration('HTTP_HEADERS_TIMEOUT', 30, 1),
    },
  };
}
