import { AbortError, ChuteApiError, NetworkError } from './errors.js';
import type { ChuteOptions, FilePage, FileRecord, LoginResult, User } from './types.js';

const trimBase = (baseUrl = '') => baseUrl.replace(/\/+$/, '');

/** Chute's base as an absolute URL ending in "/" (relative bases resolve against the page). */
export function chuteBase(baseUrl = ''): URL {
  return new URL(`${trimBase(baseUrl)}/`, (globalThis as { location?: { href: string } }).location?.href);
}

/** true when `url` is a Chute API URL (the local upload target), false for the storage. */
export function isChuteUrl(url: string, baseUrl = ''): boolean {
  try {
    const base = chuteBase(baseUrl);
    const target = new URL(url, base);
    return target.origin === base.origin && target.pathname.startsWith(`${base.pathname}api/`);
  } catch {
    return false;
  }
}

export const throwIfAborted = (signal?: AbortSignal) => {
  if (signal?.aborted) throw new AbortError();
};

/** Error from an HTTP answer of Chute: `{code, message, extra?}`, or a generic one. */
export function apiError(status: number, body: string): ChuteApiError {
  let data: { code?: unknown; message?: unknown; extra?: unknown } | undefined;
  try {
    data = JSON.parse(body);
  } catch {
    // not JSON: a proxy's HTML page, for example
  }
  return new ChuteApiError(
    status,
    typeof data?.code === 'string' ? data.code : `http_${status}`,
    typeof data?.message === 'string' ? data.message : `Chute answered with HTTP ${status}`,
    data?.extra && typeof data.extra === 'object' ? (data.extra as Record<string, unknown>) : undefined,
  );
}

export interface RequestOptions extends ChuteOptions {
  signal?: AbortSignal;
}

/**
 * One JSON call to Chute. Resolves with the parsed body (undefined for 204); rejects with
 * ChuteApiError, NetworkError or AbortError.
 */
export async function apiRequest<T>(
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const { signal, token } = options;
  throwIfAborted(signal);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  let text: string;
  try {
    response = await (options.fetch ?? fetch)(trimBase(options.baseUrl) + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: options.credentials ?? 'same-origin',
      signal,
    });
    // an answer cut off while its body is read is no answer either
    text = await response.text();
  } catch (error) {
    throwIfAborted(signal);
    throw new NetworkError({ cause: error });
  }
  if (!response.ok) throw apiError(response.status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

export const login = (credentials: { email: string; password: string }, options?: RequestOptions) =>
  apiRequest<LoginResult>('POST', '/api/auth/login/', credentials, options);

export const logout = (options?: RequestOptions) =>
  apiRequest<Record<string, never>>('POST', '/api/auth/logout/', {}, options);

/** The signed-in user; rejects with ChuteApiError status 401 (code not_authenticated) when signed out. */
export const getMe = (options?: RequestOptions) => apiRequest<User>('GET', '/api/auth/me/', undefined, options);

/** The user's files, newest first. */
export const listFiles = (page: { limit?: number; offset?: number } = {}, options?: RequestOptions) =>
  apiRequest<FilePage>('GET', `/api/files/?limit=${page.limit ?? 20}&offset=${page.offset ?? 0}`, undefined, options);

export const getFile = (id: number, options?: RequestOptions) =>
  apiRequest<FileRecord>('GET', `/api/files/${id}/`, undefined, options);

export const deleteFile = (id: number, options?: RequestOptions) =>
  apiRequest<void>('DELETE', `/api/files/${id}/`, undefined, options);

/** Best-effort DELETE of an upload given up on: Chute's cleanup removes what this misses. */
export async function discard(path: string, options: RequestOptions): Promise<void> {
  try {
    const timeout = (AbortSignal as { timeout?: (ms: number) => AbortSignal }).timeout?.(10_000);
    await apiRequest('DELETE', path, undefined, { ...options, signal: timeout });
  } catch {
    // gone already, or Chute unreachable: either way nothing more to do here
  }
}
