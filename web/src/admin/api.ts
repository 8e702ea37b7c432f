// The admin API (/api/admin/...), called with the page's own session like the rest of the app.
import {
  AbortError,
  type ApiAnswer,
  apiRequest,
  ChuteApiError,
  NetworkError,
  type RequestOptions,
} from '@chute/client';
import { chute } from '../chute';

// The admin API's shapes come from the server's OpenAPI document, as the client's do.
export type AdminFilePage = ApiAnswer<'/api/admin/files/', 'get'>;
export type AdminUserPage = ApiAnswer<'/api/admin/users/', 'get'>;

/** A file as the admin API returns it: the public record and what only staff see. */
export type AdminFile = AdminFilePage['results'][number];
export type AdminUser = AdminUserPage['results'][number];
export type AdminSettings = ApiAnswer<'/api/admin/settings/', 'get'>;
export type DeliveryPage = ApiAnswer<'/api/admin/webhooks/deliveries/', 'get'>;
/** A webhook delivery: one event to one endpoint, with its attempts so far. */
export type Delivery = DeliveryPage['results'][number];
export type DeliveryState = Delivery['state'];

export const SORTS = [
  'id',
  'original_file_name',
  'file_name',
  'file_type',
  'file_size',
  'uploaded_by',
  'created_at',
  'upload_finished_at',
  'is_valid',
] as const;
export type Sort = (typeof SORTS)[number];
export type Order = 'asc' | 'desc';
export type Status = '' | 'valid' | 'pending';

export interface FileQuery {
  search: string;
  status: Status;
  uploadedBy: string;
  sort: Sort;
  order: Order;
  offset: number;
  limit: number;
}

const withSignal = (signal?: AbortSignal): RequestOptions => ({ ...chute, ...(signal && { signal }) });
const json = <T>(method: string, path: string, body?: unknown, signal?: AbortSignal) =>
  apiRequest<T>(method, path, body, withSignal(signal));

export function fileQueryString(query: FileQuery): string {
  const params = new URLSearchParams();
  if (query.search.trim()) params.set('search', query.search.trim());
  if (query.status) params.set('status', query.status);
  if (query.uploadedBy) params.set('uploaded_by', query.uploadedBy);
  params.set('sort', query.sort);
  params.set('order', query.order);
  params.set('limit', String(query.limit));
  params.set('offset', String(query.offset));
  return params.toString();
}

export const getSettings = (signal?: AbortSignal) =>
  json<AdminSettings>('GET', '/api/admin/settings/', undefined, signal);
export const listFiles = (query: FileQuery, signal?: AbortSignal) =>
  json<AdminFilePage>('GET', `/api/admin/files/?${fileQueryString(query)}`, undefined, signal);
export const getFile = (id: number, signal?: AbortSignal) =>
  json<AdminFile>('GET', `/api/admin/files/${id}/`, undefined, signal);
export const deleteFile = (id: number) => json<void>('DELETE', `/api/admin/files/${id}/`);
export const deleteFiles = (ids: number[]) =>
  json<ApiAnswer<'/api/admin/files/bulk-delete/', 'post'>>('POST', '/api/admin/files/bulk-delete/', { ids });
export const deletePending = (olderThanHours: number) =>
  json<ApiAnswer<'/api/admin/files/delete-pending/', 'post'>>('POST', '/api/admin/files/delete-pending/', {
    older_than_hours: olderThanHours,
  });

export const listUsers = (query: { search?: string; limit?: number; offset?: number }, signal?: AbortSignal) => {
  const params = new URLSearchParams({ limit: String(query.limit ?? 50), offset: String(query.offset ?? 0) });
  if (query.search?.trim()) params.set('search', query.search.trim());
  return json<AdminUserPage>('GET', `/api/admin/users/?${params}`, undefined, signal);
};
export const createUser = (user: { email: string; password: string; is_staff: boolean }) =>
  json<AdminUser>('POST', '/api/admin/users/', user);
export const setUserActive = (id: number, active: boolean) =>
  json<AdminUser>('POST', `/api/admin/users/${id}/${active ? 'activate' : 'deactivate'}/`, {});
export const setUserPassword = (id: number, password: string) =>
  json<AdminUser>('POST', `/api/admin/users/${id}/password/`, { password });

/** Newest first; `beforeId` is the page before's next_before_id. */
export const listDeliveries = ({
  state,
  beforeId,
  limit,
  signal,
}: {
  state?: DeliveryState;
  beforeId?: number;
  limit?: number;
  signal?: AbortSignal;
}) => {
  const params = new URLSearchParams();
  if (state) params.set('state', state);
  if (beforeId !== undefined) params.set('before_id', String(beforeId));
  if (limit !== undefined) params.set('limit', String(limit));
  return json<DeliveryPage>('GET', `/api/admin/webhooks/deliveries/?${params}`, undefined, signal);
};
export const resendDelivery = (id: number) =>
  json<Delivery>('POST', `/api/admin/webhooks/deliveries/${id}/resend/`, {});

export interface SendOptions {
  signal?: AbortSignal;
  onProgress?: (loaded: number, total: number) => void;
}

/**
 * A multipart POST to Chute with upload progress (XMLHttpRequest: fetch has none). Fields go
 * before the file, so the server knows them before the bytes arrive.
 */
export function sendFile<T>(
  path: string,
  file: File,
  fields: Record<string, string>,
  { signal, onProgress }: SendOptions = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const done = () => signal?.removeEventListener('abort', abort);
    xhr.open('POST', `${(chute.baseUrl ?? '').replace(/\/+$/, '')}${path}`);
    xhr.withCredentials = chute.credentials === 'include';
    xhr.setRequestHeader('Accept', 'application/json');
    if (chute.token) xhr.setRequestHeader('Authorization', `Bearer ${chute.token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable)
        onProgress?.(Math.min(file.size, Math.round((event.loaded / event.total) * file.size)), file.size);
    };
    xhr.onload = () => {
      done();
      let body: { code?: unknown; message?: unknown; extra?: unknown } | undefined;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        // not JSON: a proxy's page
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body as T);
      reject(
        new ChuteApiError(
          xhr.status,
          typeof body?.code === 'string' ? body.code : `http_${xhr.status}`,
          typeof body?.message === 'string' ? body.message : `Chute answered with HTTP ${xhr.status}`,
          body?.extra && typeof body.extra === 'object' ? (body.extra as Record<string, unknown>) : undefined,
        ),
      );
    };
    xhr.onerror = xhr.ontimeout = () => {
      done();
      reject(new NetworkError());
    };
    xhr.onabort = () => {
      done();
      reject(new AbortError());
    };
    xhr.send(form);
  });
}

export const addFile = (file: File, uploadedBy: string, options?: SendOptions) =>
  sendFile<AdminFile>('/api/admin/files/', file, uploadedBy ? { uploaded_by: uploadedBy } : {}, options);

export const replaceFile = (id: number, file: File, options?: SendOptions) =>
  sendFile<ApiAnswer<'/api/admin/files/{id}/replace/', 'post'>>(`/api/admin/files/${id}/replace/`, file, {}, options);
