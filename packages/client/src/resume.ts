/** What a multipart upload keeps to be resumed later (stored as JSON), e.g. after a page reload. */
export interface ResumeEntry {
  /** Chute's file record id */
  id: number;
  upload_id: string;
  key: string;
  part_size: number;
  /** when the upload was created (ms since the epoch) */
  created: number;
  /** the file's name and size, to tell the user what is unfinished */
  name: string;
  size: number;
}

/**
 * Where resumable uploads are remembered, under `chute-upload|<Chute base URL>|<fingerprint>`: the Web Storage interface
 * (localStorage, sessionStorage fit), whose methods may also return promises. Default:
 * localStorage where it works, else memory (Node).
 */
export interface ResumeStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): unknown;
  removeItem(key: string): unknown;
}

/** A store in a Map: lives as long as the process (Node, tests). */
export const memoryResumeStore = (map = new Map<string, string>()): ResumeStore => ({
  getItem: (key) => map.get(key) ?? null,
  setItem: (key, value) => map.set(key, value),
  removeItem: (key) => map.delete(key),
});

let memory: ResumeStore | undefined;

/** localStorage where it works, else one in-memory store shared by the process. */
export function defaultResumeStore(): ResumeStore {
  try {
    localStorage.getItem('');
    return localStorage;
  } catch {
    return (memory ??= memoryResumeStore());
  }
}

const hex = (bytes: ArrayBuffer | Uint8Array) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** Hex of a base64 string, e.g. a Content-MD5 to compare with an S3 ETag. */
export const base64ToHex = (base64: string): string => hex(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));

/**
 * Identifies a file across page reloads: name, size, last modified time and (where WebCrypto is
 * available: secure contexts, Node) a SHA-256 of its first and last MiB, which costs a few ms.
 */
export async function fingerprint(file: Blob, name = (file as Partial<File>).name ?? ''): Promise<string> {
  const edge = 2 ** 20;
  let print = `${name}|${file.size}|${(file as Partial<File>).lastModified ?? ''}`;
  try {
    const ends = new Blob([file.slice(0, edge), file.slice(Math.max(edge, file.size - edge))]);
    print += `|${hex(await crypto.subtle.digest('SHA-256', await ends.arrayBuffer())).slice(0, 32)}`;
  } catch {
    // no WebCrypto (a page on plain http): name, size and time only
  }
  return print;
}
