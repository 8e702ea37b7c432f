import { STATUS_CODES as HTTP_STATUS_TEXT } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, errorCatalogue, isAppError, refusalOf, type ErrorCode } from '../../errors.js';

interface AjvIssue {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

// Ajv collects every error (allErrors): a 1 MiB body of unknown keys makes 90,000. Only the first
// issues are read and the first fields listed, so the work and the answer stay small.
const MAX_ISSUES = 200;
const MAX_FIELDS = 20;

/** What a `pattern` asks for, in words where the pattern is a count of digits. */
function patternMessage(pattern: string): string {
  const digits = /^\^\[0-9\]\{1,(\d+)\}\$$/.exec(pattern);
  return digits ? `Must be a whole number of at most ${digits[1]} digits.` : `Must match ${pattern}.`;
}

/** DRF-like field messages, so the reference's clients can show them as they are. */
function fieldErrors(allIssues: AjvIssue[], context: string): Record<string, string[]> {
  const issues = allIssues.slice(0, MAX_ISSUES);
  // a Map: field names come from the request, and `constructor` or `__proto__` must be names like any other
  const fields = new Map<string, string[]>();
  const add = (field: string, message: string) => {
    const key = field || context;
    if (!fields.has(key) && fields.size >= MAX_FIELDS) return;
    const list = fields.get(key) ?? [];
    if (!list.includes(message)) list.push(message);
    fields.set(key, list);
  };
  const pathOf = (issue: AjvIssue) => issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  // the values a union of literals (sort, order, status) allows, by field
  const allowed = new Map<string, string[]>();
  for (const issue of issues) {
    if (issue.keyword !== 'const') continue;
    const values = allowed.get(pathOf(issue)) ?? [];
    values.push(String(issue.params.allowedValue));
    allowed.set(pathOf(issue), values);
  }
  for (const issue of issues) {
    const path = pathOf(issue);
    switch (issue.keyword) {
      case 'required':
        add(String(issue.params.missingProperty), 'This field is required.');
        break;
      case 'additionalProperties':
        add(String(issue.params.additionalProperty), 'Unknown field.');
        break;
      case 'minLength':
        add(
          path,
          issue.params.limit === 1
            ? 'This field may not be blank.'
            : `Ensure this field has at least ${issue.params.limit} characters.`,
        );
        break;
      case 'maxLength':
        add(path, `Ensure this field has no more than ${issue.params.limit} characters.`);
        break;
      case 'type':
        add(path, `Must be of type ${String(issue.params.type)}.`);
        break;
      case 'pattern':
        add(path, patternMessage(String(issue.params.pattern)));
        break;
      case 'anyOf':
        add(path, allowed.has(path) ? `${SUMMARY_ONE_OF} ${allowed.get(path)!.join(', ')}.` : SUMMARY_NUMBER);
        break;
      default:
        add(path, issue.message ?? 'Invalid value.');
    }
  }
  // anyOf reports each branch too; keep the summary where there is one
  for (const [field, messages] of fields) {
    const summary = messages.find((m) => m === SUMMARY_NUMBER || m.startsWith(SUMMARY_ONE_OF));
    if (summary) fields.set(field, [summary]);
  }
  return Object.fromEntries(fields);
}

const SUMMARY_NUMBER = 'Must be a number or a string of digits.';
const SUMMARY_ONE_OF = 'Must be one of:';

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_REQ_FILE_TOO_LARGE: 'file_too_large',
  FST_FILES_LIMIT: 'payload_too_large',
  FST_PARTS_LIMIT: 'payload_too_large',
  FST_FIELDS_LIMIT: 'payload_too_large',
  FST_PROTO_VIOLATION: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_TYPE: 'unsupported_media_type',
};

// busboy says "reach files limit": what the client should do instead
const MULTIPART_LIMITS: Record<string, string> = {
  FST_FILES_LIMIT: 'Send one file per request, as the multipart field "file".',
  FST_FIELDS_LIMIT: 'The multipart body has too many fields.',
  FST_PARTS_LIMIT: 'The multipart body has too many parts.',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'not_authenticated',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

const DATABASE_DOWN = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  // PostgreSQL: connection exceptions (08…), shutdown (57P0…), too many connections, missing database, lock not available,
  // statement timeout (57014)
  '57014',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '3D000',
  '55000',
  'SQLITE_BUSY',
  'SQLITE_CANTOPEN',
  'SQLITE_IOERR',
  'SQLITE_READONLY',
  'SQLITE_FULL',
]);

// One wording for every cause: down, out of connections, a full disk, a read-only file.
const DATABASE_UNAVAILABLE = 'The database is unavailable (unreachable, busy or out of disk space). Try again later.';

/** SQLite's extended codes (SQLITE_IOERR_WRITE, SQLITE_BUSY_SNAPSHOT) as their primary code */
const primaryCode = (code: string) => (code.startsWith('SQLITE_') ? code.split('_', 2).join('_') : code);

// PostgreSQL refusing a value (NUL in text, a number out of range, bad text representation):
// the request was bad, not the server.
const DATABASE_BAD_VALUE = new Set(['22021', '22003', '22P02', '22001']);

// busboy's words for a multipart body it cannot parse
const MALFORMED_MULTIPART =
  /^(Malformed part header|Unexpected end of (form|multipart data)|Multipart: Boundary not found|Malformed urlencoded form|The needle cannot have a length bigger than 256)/i;

function toAppError(error: FastifyError & { code?: string }): AppError | null {
  if (isAppError(error)) return error;
  if (error.validation) {
    const fields = fieldErrors(error.validation as AjvIssue[], error.validationContext ?? 'body');
    const summary = Object.entries(fields)
      .map(([field, messages]) => `${field}: ${messages.join(' ')}`)
      .join('; ');
    const more = Object.keys(fields).length >= MAX_FIELDS ? ` (at most ${MAX_FIELDS} fields are listed)` : '';
    return new AppError('validation_failed', summary ? `${summary}${more}` : 'The request is not valid.', { fields });
  }
  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) {
    const message =
      mapped === 'invalid_json'
        ? 'The request body is not valid JSON.'
        : mapped === 'unsupported_media_type'
          ? `This endpoint does not accept that Content-Type. ${error.message}`
          : (MULTIPART_LIMITS[error.code!] ?? error.message);
    return new AppError(mapped, message);
  }
  if (error instanceof SyntaxError && error.statusCode === 400)
    return new AppError('invalid_json', 'The request body is not valid JSON.');
  if (MALFORMED_MULTIPART.test(error.message))
    return new AppError('validation_failed', `The multipart body is malformed: ${error.message}.`);
  if (error.code && DATABASE_BAD_VALUE.has(error.code))
    return new AppError(
      'validation_failed',
      'A value in the request cannot be stored (out of range or not valid text).',
    );
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError(STATUS_CODES[status] ?? 'validation_failed', error.message);
  if (error.code && DATABASE_DOWN.has(primaryCode(error.code))) {
    return new AppError('database_unavailable', DATABASE_UNAVAILABLE);
  }
  if (/timeout exceeded when trying to connect|Connection terminated/i.test(error.message)) {
    return new AppError('database_unavailable', DATABASE_UNAVAILABLE);
  }
  return null;
}

async function errorsPlugin(app: FastifyInstance) {
  // Fastify's own formatter writes every Ajv error into one message; the handler below words them
  app.setSchemaErrorFormatter((_errors, dataVar) => new Error(`The request ${dataVar} is not valid.`));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // a host's refusal (an onUploadStart hook's UploadRefusedError): its own status and code
    const refusal = refusalOf(error);
    if (refusal) {
      request.log.info({ code: refusal.code }, refusal.message);
      return reply.status(refusal.status).send({ code: refusal.code, message: refusal.message });
    }
    const appError = toAppError(error);
    if (!appError) {
      request.log.error({ err: error }, 'unhandled error');
      return reply
        .status(500)
        .send({ code: 'internal_error', message: 'Something went wrong on our side. It has been logged.' });
    }
    if (appError.status >= 500) request.log.warn({ err: error, code: appError.code }, appError.message);
    else request.log.info({ code: appError.code }, appError.message);

    return reply
      .status(appError.status)
      .send({ code: appError.code, message: appError.message, ...(appError.extra && { extra: appError.extra }) });
  });
}

export default fp(errorsPlugin, { name: 'chute-errors' });

/**
 * Requests Node's HTTP parser refuses (headers past the limit, broken request lines) never reach
 * Fastify's handlers: they get the same {code, message} shape here, written to the socket.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: import('node:net').Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [code, message]: [ErrorCode, string] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? ['headers_too_large', 'The request headers are too large.']
      : // HTTP_HEADERS_TIMEOUT passed before the headers were in
        error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['request_timeout', 'The request headers took too long to arrive.']
        : ['validation_failed', 'The request is not valid HTTP.'];
  const status = errorCatalogue[code];
  const body = JSON.stringify({ code, message });
  socket.end(
    `HTTP/1.1 ${status} ${HTTP_STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
