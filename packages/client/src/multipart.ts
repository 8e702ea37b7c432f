import { apiRequest, chuteBase, discard, isChuteUrl, throwIfAborted } from './api.js';
import { AbortError, ChuteApiError, type ChuteError } from './errors.js';
import { base64ToHex, defaultResumeStore, fingerprint, type ResumeEntry } from './resume.js';
import { listen } from './control.js';
import { isRetryable, withRetry, type RetryOptions } from './retry.js';
import { checkUploadResponse, send } from './transport.js';
import type { Checksums, FileRecord, MultipartTarget, UploadOptions } from './types.js';

const MiB = 2 ** 20;
const MAX_PARTS = 10_000;
const API = '/api/files/upload/multipart/';

/**
 * Files of this size or more go multipart by default: 4 parts of 8 MiB, where the default 4
 * parallel parts are all busy, and where losing a single request's progress to a network cut
 * starts to hurt. See the README for the measurements.
 */
export const MULTIPART_THRESHOLD = 32 * MiB;

/** S3 allows 10,000 parts: 8 MiB, or more for files over 78 GiB. */
export const defaultPartSize = (size: number): number => Math.max(8 * MiB, Math.ceil(size / MAX_PARTS));

/** A part's bytes: [start, end) of the file. Part numbers start at 1: part n is planParts(...)[n - 1]. */
export type PlannedPart = [start: number, end: number];

/**
 * Cuts `size` bytes into parts of `partSize` (kept within S3's rules: 5 MiB to 5 GiB, at most
 * 10,000 parts), the last one shorter.
 */
export function planParts(size: number, partSize = defaultPartSize(size)): PlannedPart[] {
  const step = Math.min(5 * 1024 * MiB, Math.max(partSize, 5 * MiB, Math.ceil(size / MAX_PARTS)));
  const parts: PlannedPart[] = [];
  for (let start = 0; start < size || !parts.length; start += step) parts.push([start, Math.min(size, start + step)]);
  return parts;
}

interface ListedPart {
  part_number: number;
  size: number;
  etag: string;
}

const ignore = () => {};

/**
 * A part's URL is signed while the part before it is still going up, so no part waits for its
 * signature; one signed longer ago than this is not used (it may have expired) but signed again.
 */
const SIGNED_AHEAD_MAX_AGE_MS = 15_000;

type SignedPart = { url: string; headers: Record<string, string> };
type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>;
/** by part number; a hole is a part to send */
type KnownParts = Array<ListedPart | undefined>;

/**
 * Sends the parts not `known` (`done`: their bytes) to URLs signed at `partsPath`, `concurrency`
 * workers taking them in order; the first failure stops them all (`stop`). Returns the ETags by
 * part number ('' where the bucket's CORS rules hide one).
 */
async function sendParts(
  file: Blob,
  parts: PlannedPart[],
  known: KnownParts,
  done: number,
  md5s: Array<Promise<string> | undefined>,
  partsPath: string,
  options: UploadOptions,
  stop: AbortController,
): Promise<string[]> {
  const { onProgress, concurrency = 4 } = options;
  const sending = new Map<number, number>();
  const report = () => {
    let loaded = done;
    for (const bytes of sending.values()) loaded += bytes;
    onProgress?.({ loaded: Math.min(loaded, file.size), total: file.size });
  };
  report();

  /** the last part a worker took */
  let next = 0;
  const signPart = async (part: number, requestSignal: AbortSignal): Promise<SignedPart> => {
    const md5 = await md5s[part - 1];
    const {
      parts: [signed],
    } = await apiRequest<{ parts: SignedPart[] }>(
      'POST',
      `${partsPath}sign/`,
      { parts: [{ part_number: part, content_md5: md5 }] },
      { ...options, signal: requestSignal },
    );
    return signed!;
  };
  const signedAhead = new Map<number, { at: number; signed: Promise<SignedPart> }>();
  const signAhead = (part: number) => {
    if (part > parts.length || known[part] || signedAhead.has(part)) return;
    const signed = signPart(part, stop.signal);
    signed.catch(ignore); // a failure here only means the part signs again when its turn comes
    signedAhead.set(part, { at: Date.now(), signed });
  };

  const etags: string[] = [];
  const upload = async (part: number) => {
    const [start, end] = parts[part - 1]!;
    const md5 = await md5s[part - 1];
    const there = known[part];
    // a part already there is kept when (with checksums) its ETag is the slice's MD5
    if (there && (!md5 || there.etag.replace(/"/g, '') === base64ToHex(md5))) return void (etags[part] = there.etag);
    if (there) done -= end - start; // not this file's bytes after all: sent again
    let ahead = signedAhead.get(part);
    signedAhead.delete(part);
    etags[part] = await withRetry(
      async (attempt) => {
        try {
          // part URLs expire: only a fresh one signed ahead is used, and a retry signs anew
          const fresh = ahead && Date.now() - ahead.at < SIGNED_AHEAD_MAX_AGE_MS ? ahead.signed : null;
          ahead = undefined;
          const { url, headers } = await (fresh ? fresh.catch(() => signPart(part, attempt)) : signPart(part, attempt));
          signAhead(next + 1); // the part the next free worker takes
          const result = await send('PUT', url, file.slice(start, end), {
            ...options,
            headers,
            signal: attempt,
            onProgress: (loaded) => {
              sending.set(part, loaded);
              report();
            },
          });
          try {
            checkUploadResponse(result, isChuteUrl(url, options.baseUrl));
          } catch (error) {
            throw Object.assign(error as ChuteError, { partNumber: part });
          }
          return result.etag ?? '';
        } finally {
          sending.delete(part);
        }
      },
      { ...options, signal: stop.signal },
      part,
    );
    done += end - start;
    report();
  };

  let failure: unknown;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, parts.length)) }, async () => {
      try {
        while (next < parts.length) await upload(++next);
      } catch (error) {
        failure ??= error;
        stop.abort();
      }
    }),
  );
  throwIfAborted(options.signal);
  if (failure) throw failure;
  return etags;
}

/**
 * Uploads a file in parts straight to the storage: `concurrency` parts in flight, each request
 * retried with backoff, resumable (the upload is remembered in `resumeStore` under the file's
 * fingerprint until it is done: uploading the same file again continues it), pausable through
 * `control`, with a Content-MD5 per part and the file's SHA-256 when given `checksums`.
 *
 * An abort (the signal) or a refusal drops the upload (DELETE, which aborts it on the storage); a
 * failure worth retrying later (network, 5xx, signed out) keeps it, for resuming.
 */
export async function uploadMultipart(file: Blob, options: UploadOptions = {}): Promise<FileRecord> {
  const { signal, onPhase } = options;
  const fileName = options.fileName ?? (file as Partial<File>).name ?? 'file';
  const store = options.resumeStore === false ? null : (options.resumeStore ?? defaultResumeStore());
  throwIfAborted(signal);
  onPhase?.('starting');

  // stops every request: the caller's abort, or the first failure that ends the upload
  const stop = new AbortController();
  const unlisten = listen(signal, undefined, () => stop.abort());
  const retry: RetryOptions = { ...options, signal: stop.signal };
  const call: Call = (method, path, body) =>
    withRetry((attempt) => apiRequest(method, API + path, body, { ...options, signal: attempt }), retry);

  const storeKey = `chute-upload|${chuteBase(options.baseUrl).href}|${await fingerprint(file, fileName)}`;
  let entry: ResumeEntry | null = null;
  let checks: Checksums | undefined;
  try {
    entry = JSON.parse((await store?.getItem(storeKey)) ?? 'null');
  } catch {
    // unreadable: start anew
  }
  try {
    let listed: ListedPart[] = [];
    if (entry) {
      try {
        ({ parts: listed } = await call<{ parts: ListedPart[] }>('GET', `${entry.id}/parts/`));
      } catch (error) {
        // completed, aborted, cleaned up, or another user's: start anew
        if (!(error instanceof ChuteApiError && (error.status == 404 || error.status == 409))) throw error;
        entry = null;
      }
    }
    if (!entry) {
      const created = await call<MultipartTarget>('POST', '', {
        file_name: fileName,
        file_type: options.fileType || file.type || 'application/octet-stream',
        file_size: file.size,
      });
      // the server's part_size: each part's URL is signed for exactly its share of the file
      entry = { ...created, created: Date.now(), name: fileName, size: file.size };
      try {
        await store?.setItem(storeKey, JSON.stringify(entry));
      } catch {
        // quota exceeded or storage disabled: the upload goes on, it just cannot be resumed
      }
    }
    const path = `${entry.id}/`;
    const parts = planParts(file.size, entry.part_size);
    const known: KnownParts = [];
    let resumed = 0;
    let resumedParts = 0;
    for (const part of listed) {
      const [start, end] = parts[part.part_number - 1] ?? [];
      // a part of another size (or beyond the file) is sent again
      if (part.size === end! - start!) {
        known[part.part_number] = part;
        resumed += part.size;
        resumedParts++;
      }
    }
    if (resumedParts)
      options.onResume?.({ uploadedBytes: resumed, uploadedParts: resumedParts, totalParts: parts.length });

    // checksums: the file is read once, in order, a part at a time, ahead of the uploads
    checks = await options.checksums?.();
    let reading: Promise<unknown> = Promise.resolve();
    const md5s = (checks ? parts : []).map(([start, end]) => {
      const md5 = (reading = reading.then(() => {
        throwIfAborted(stop.signal);
        return checks!.part(file.slice(start, end));
      })) as Promise<string>;
      md5.catch(ignore);
      return md5;
    });
    const sha256 = checks && reading.then(() => checks!.digest());
    sha256?.catch(ignore);
    onPhase?.('uploading');
    const etags = await sendParts(file, parts, known, resumed, md5s, API + path, options, stop);

    // an ETag the bucket's CORS rules did not expose: ask Chute for it
    if (parts.some((_, index) => !etags[index + 1])) {
      for (const part of (await call<{ parts: ListedPart[] }>('GET', `${path}parts/`)).parts)
        etags[part.part_number] ||= part.etag;
    }
    onPhase?.('finishing');
    const record = await call<FileRecord>('POST', `${path}complete/`, {
      parts: parts.map((_, index) => ({ part_number: index + 1, etag: etags[index + 1] })),
      sha256: await sha256,
    });
    await store?.removeItem(storeKey);
    return record;
  } catch (error) {
    if (error instanceof AbortError || !(isRetryable(error) || (error as ChuteApiError).status == 401)) {
      try {
        await store?.removeItem(storeKey);
      } catch {
        // an entry left behind finds its record gone when resumed, and a new upload starts
      }
      if (entry) await discard(`${API + entry.id}/`, options);
    }
    throw error;
  } finally {
    unlisten();
    stop.abort();
    checks?.close?.();
  }
}
