// One catalogue of error codes. The core throws AppError with a code; the HTTP error handler
// renders it as {code, message, extra?} with the status listed here.

export const errorCatalogue = {
  validation_failed: 400,
  invalid_json: 400,
  invalid_file_name: 400,
  invalid_file_type: 400,
  file_missing: 400,
  file_empty: 400,
  invalid_credentials: 400,
  not_authenticated: 401,
  csrf_failed: 403,
  permission_denied: 403,
  user_inactive: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  upload_missing: 409,
  upload_already_received: 409,
  upload_size_mismatch: 409,
  upload_type_mismatch: 409,
  upload_too_large: 409,
  upload_empty: 409,
  upload_rejected: 409,
  upload_closed: 409,
  upload_method_mismatch: 409,
  checksum_mismatch: 409,
  part_too_small: 409,
  conflict: 409,
  upload_expired: 410,
  payload_too_large: 413,
  file_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  storage_unavailable: 503,
  database_unavailable: 503,
  auth_unavailable: 503,
  not_ready: 503,
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = errorCatalogue[code];
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** One wording for each thing a 404 says is missing (the code is always not_found). */
export const NOT_FOUND = {
  file: 'No such file.',
  user: 'No such user.',
  account: 'This user signs in through the identity system that issued the token and has no Chute account.',
  upload: 'No such upload.',
  multipartUpload: 'No such multipart upload: it was completed or aborted.',
  delivery: 'No such webhook delivery: it was never made, or delivered more than 7 days ago and pruned.',
} as const;

export const notFound = (what: keyof typeof NOT_FOUND = 'file') => new AppError('not_found', NOT_FOUND[what]);

export const fileTooLarge = (maxSize: number) =>
  new AppError('file_too_large', `File is too large. It should not exceed ${formatBytes(maxSize)}.`, {
    max_size: maxSize,
  });

/** The codes a refusal may carry: Chute's own style, which Fastify's (FST_…) and Node's (E…) codes are not. */
export const REFUSAL_CODE = /^[a-z][a-z0-9_]*$/;

const isClientStatus = (status: unknown): status is number =>
  typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 499;

/**
 * A host's refusal of an upload, thrown from its onUploadStart hook (e.g. 403 `quota_exceeded`).
 * Fastify's convention: the HTTP layer answers `statusCode` with `{code, message}`, as it does
 * any error that carries a 4xx statusCode and a snake_case code.
 */
export class UploadRefusedError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UploadRefusedError';
    if (!isClientStatus(statusCode)) throw new RangeError(`A refusal's statusCode is a 4xx status, not ${statusCode}.`);
    if (!REFUSAL_CODE.test(code)) throw new RangeError(`A refusal's code is snake_case (quota_exceeded), not ${code}.`);
  }
}

/** An error in Fastify's convention that the client should hear as it is: a 4xx statusCode and a snake_case code. */
export function refusalOf(error: unknown): { status: number; code: string; message: string } | null {
  if (!(error instanceof Error)) return null;
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  if (!isClientStatus(statusCode)) return null;
  if (typeof code !== 'string' || !REFUSAL_CODE.test(code)) return null;
  return { status: statusCode, code, message: error.message };
}
