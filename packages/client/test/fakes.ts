// Test doubles for the browser APIs the client uses: XMLHttpRequest and fetch.

export class FakeXHR {
  static instances: FakeXHR[] = [];
  /** called on send(); lets a test answer automatically */
  static onSend: ((xhr: FakeXHR) => void) | null = null;

  method = '';
  url = '';
  headers: Record<string, string> = {};
  withCredentials = false;
  body: FormData | Blob | null = null;
  status = 0;
  responseText = '';
  aborted = false;
  upload: { onprogress: ((event: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
    onprogress: null,
  };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeXHR.instances.push(this);
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  send(body: FormData | Blob) {
    this.body = body;
    FakeXHR.onSend?.(this);
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total });
  }
  responseHeaders: Record<string, string> = {};
  getResponseHeader(name: string): string | null {
    return this.responseHeaders[name.toLowerCase()] ?? null;
  }
  respond(status: number, body = '', headers: Record<string, string> = {}) {
    this.status = status;
    this.responseText = body;
    this.responseHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    this.onload?.();
  }
  /** what a browser does on a CORS refusal or a network failure */
  fail() {
    this.status = 0;
    this.onerror?.();
  }
}

export function installFakeXHR() {
  FakeXHR.instances = [];
  FakeXHR.onSend = null;
  (globalThis as Record<string, unknown>).XMLHttpRequest = FakeXHR;
}

export interface FetchCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

type Route = (call: FetchCall) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>;

/** A fetch that answers from `routes` keyed by "METHOD path" (path without origin). */
export function fakeFetch(routes: Record<string, Route>) {
  const calls: FetchCall[] = [];
  const fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const call: FetchCall = {
      method: init.method ?? 'GET',
      url,
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
      credentials: init.credentials,
    };
    calls.push(call);
    if (init.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const path = new URL(url, 'http://chute.test').pathname;
    const route = routes[`${call.method} ${path}`];
    if (!route) return new Response(JSON.stringify({ code: 'not_found', message: 'no route' }), { status: 404 });
    const { status, body } = await route(call);
    return new Response(status === 204 || body === undefined ? null : JSON.stringify(body), { status });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

export const fileRecord = (id: number, name: string, size: number) => ({
  id,
  original_file_name: name,
  file_name: `${id}-${name}`,
  file_type: 'text/plain',
  file_size: size,
  url: `http://chute.test/media/${id}`,
  is_valid: true,
  upload_finished_at: '2025-01-01T00:00:00.000Z',
  created_at: '2025-01-01T00:00:00.000Z',
  uploaded_by: 1,
});

export const tick = () => new Promise((resolve) => setImmediate(resolve));

/** waits until `predicate` holds, checking after each turn of the event loop */
export async function until(predicate: () => boolean, turns = 100) {
  for (let i = 0; i < turns && !predicate(); i++) await tick();
  if (!predicate()) throw new Error('condition never became true');
}
