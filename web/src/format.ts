import { AbortError, ChuteApiError, NetworkError, StorageError, StorageUnreachableError } from '@chute/client';

/** bytes in the largest binary multiple it reaches: 1536 -> [1.5, 1] (unit 1 = the second unit) */
function scaled(bytes: number, units: number): [value: number, unit: number] {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units - 1) {
    value /= 1024;
    unit++;
  }
  return [value, unit];
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 -> "1.5 KB" (binary multiples; the server speaks in MiB for limits, see formatLimit) */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  const [value, unit] = scaled(bytes, UNITS.length);
  return `${unit === 0 || value >= 100 ? Math.round(value) : value.toFixed(1).replace(/\.0$/, '')} ${UNITS[unit]}`;
}

const LIMIT_UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];

/** limits are set in MiB/GiB on the server, and written as the server's messages write them: 10485760 -> "10 MiB" */
export function formatLimit(bytes: number): string {
  const [value, unit] = scaled(bytes, LIMIT_UNITS.length);
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${LIMIT_UNITS[unit]}`;
}

export const formatSpeed = (bytesPerSecond: number) => `${formatBytes(bytesPerSecond)}/s`;

/** seconds -> "8 s left", "3 min left", "1 h 5 min left" */
export function formatTimeLeft(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return `${s} s left`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min left`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min left`;
}

const sameYearFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "Nov 26, 10:27 AM" this year, "Nov 26, 2024, 10:27 AM" before; `full` always has the year */
export function formatDate(iso: string | null, full = false): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return !full && date.getFullYear() === new Date().getFullYear()
    ? sameYearFormat.format(date)
    : fullFormat.format(date);
}

const KNOWN_TYPES: Record<string, string> = {
  'text/plain': 'Plain text',
  'text/csv': 'CSV table',
  'text/html': 'HTML page',
  'application/pdf': 'PDF document',
  'application/json': 'JSON data',
  'application/zip': 'ZIP archive',
  'application/gzip': 'GZIP archive',
  'application/octet-stream': 'Binary file',
  'application/msword': 'Word document',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'Word document',
  'application/vnd.ms-excel': 'Excel sheet',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel sheet',
  'image/svg+xml': 'SVG image',
};

/** "image/png" -> "PNG image", "text/plain" -> "Plain text"; falls back to the MIME type */
export function formatType(mime: string): string {
  const bare = mime.split(';')[0]!.trim().toLowerCase();
  if (KNOWN_TYPES[bare]) return KNOWN_TYPES[bare];
  const [kind, sub = ''] = bare.split('/');
  const name = sub
    .replace(/^(x-|vnd\.)/, '')
    .split(/[+.]/)[0]!
    .toUpperCase();
  const kinds: Record<string, string> = { image: 'image', video: 'video', audio: 'audio', text: 'text', font: 'font' };
  if (!kind || !name) return mime || 'Unknown';
  return `${name} ${kinds[kind] ?? 'file'}`;
}

const EXPIRED = 'The upload link expired before the file was sent. Retry to get a new one.';

/** An error of the client library in plain words, for a person. */
export function describeError(error: unknown): string {
  if (error instanceof AbortError) return 'Cancelled.';
  if (error instanceof StorageUnreachableError) {
    return "The storage refused the browser's request (CORS), or the network failed. Check your connection; if it persists, the bucket's CORS rules must allow this site.";
  }
  if (error instanceof NetworkError) return "Can't reach the server. Check your connection and try again.";
  if (error instanceof StorageError) {
    if (error.code === 'EntityTooLarge') {
      const max = Number(error.details.MaxSizeAllowed);
      return max > 0
        ? `This file is larger than the ${formatLimit(max)} limit.`
        : 'This file is larger than the storage allows.';
    }
    if (error.code === 'EntityTooSmall') return 'This file is empty.';
    if (error.expired) return EXPIRED;
    if (error.code === 'AccessDenied') return 'The storage refused the upload (access denied).';
    return `The storage refused the upload (${error.code}).`;
  }
  if (error instanceof ChuteApiError) {
    const max = Number(error.extra?.max_size);
    switch (error.code) {
      case 'file_too_large':
      case 'payload_too_large':
      case 'upload_too_large':
        return max > 0
          ? `This file is larger than the ${formatLimit(max)} limit.`
          : 'This file is larger than the size limit.';
      case 'unsupported_media_type':
        return 'This type of file is not accepted.';
      case 'invalid_file_name':
        return 'This file name is not accepted. Rename the file and try again.';
      case 'invalid_file_type':
        return 'This file type is not valid.';
      case 'file_empty':
      case 'upload_empty':
        return 'This file is empty.';
      case 'upload_missing':
        return 'The file never reached the storage. Retry.';
      case 'upload_type_mismatch':
        return 'The storage received a different type of file than announced. Retry.';
      case 'upload_size_mismatch':
        return 'The storage received a different number of bytes than announced. Retry.';
      case 'upload_expired':
        return EXPIRED;
      case 'upload_already_received':
        return 'This upload was already received. Retry to upload it again.';
      case 'not_authenticated':
        return 'You are signed out. Sign in again.';
      case 'csrf_failed':
        return 'The request was refused because it did not come from this site. Reload the page.';
      case 'rate_limited':
        return 'Too many requests. Wait a minute and try again.';
      case 'storage_unavailable':
        return 'The storage is unavailable right now. Try again later.';
      case 'database_unavailable':
      case 'internal_error':
        return 'The server had a problem. Try again later.';
      default:
        // no JSON body: a proxy or load balancer answered (nginx's 413 page, a 502 while deploying)
        if (error.code === `http_${error.status}`) return describeStatus(error.status);
        return error.message || `The server refused the request (HTTP ${error.status}).`;
    }
  }
  return error instanceof Error && error.message ? `Something went wrong: ${error.message}` : 'Something went wrong.';
}

/** An HTTP status with no Chute error body, in plain words. */
function describeStatus(status: number): string {
  if (status === 413) return 'This file is larger than the size limit.';
  if (status === 429) return 'Too many requests. Wait a minute and try again.';
  if (status === 502 || status === 503 || status === 504)
    return 'The server is unavailable right now. Try again later.';
  if (status >= 500) return 'The server had a problem. Try again later.';
  return `The server refused the request (HTTP ${status}).`;
}

/** true when the error means the session is gone */
export const isSignedOut = (error: unknown) => error instanceof ChuteApiError && error.status === 401;

/**
 * Runs a delete; a target already gone (deleted meanwhile in another tab, or by an admin or its
 * owner) counts as done. Resolves false then, so the message can say so.
 */
export async function deleteIfPresent(remove: () => Promise<unknown>): Promise<boolean> {
  try {
    await remove();
    return true;
  } catch (error) {
    if (error instanceof ChuteApiError && error.status === 404) return false;
    throw error;
  }
}
