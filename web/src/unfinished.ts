// Multipart uploads the client library remembers in localStorage until they are done (see
// @chute/client's resumeStore): what the upload page lists as "not finished" after a reload.
import { apiRequest } from '@chute/client';
import { chute } from './chute';

export interface Unfinished {
  storageKey: string;
  id: number;
  name: string;
  size: number;
  created: number;
}

const prefix = () => `chute-upload|${new URL(`${(chute.baseUrl ?? '').replace(/\/+$/, '')}/`, location.href).href}|`;

/** The unfinished uploads to this Chute, newest first. */
export function listUnfinished(): Unfinished[] {
  const found: Unfinished[] = [];
  try {
    const start = prefix();
    for (let i = 0; i < localStorage.length; i++) {
      const storageKey = localStorage.key(i);
      if (!storageKey?.startsWith(start)) continue;
      const entry = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as Partial<Unfinished> | null;
      if (typeof entry?.id === 'number' && typeof entry.name === 'string' && typeof entry.size === 'number') {
        found.push({
          storageKey,
          id: entry.id,
          name: entry.name,
          size: entry.size,
          created: Number(entry.created) || 0,
        });
      }
    }
  } catch {
    // no localStorage (disabled, sandboxed): nothing to show
  }
  return found.sort((a, b) => b.created - a.created);
}

/** Forgets an unfinished upload and asks Chute to drop it (and its parts on the storage). */
export async function discardUnfinished(item: Unfinished): Promise<void> {
  try {
    localStorage.removeItem(item.storageKey);
  } catch {
    // see listUnfinished
  }
  try {
    await apiRequest('DELETE', `/api/files/upload/multipart/${item.id}/`, undefined, chute);
  } catch {
    // already gone, or unreachable: Chute's cleanup drops stale uploads anyway
  }
}
