// The upload queue: one row per file, at most 3 uploads at once, cancel and retry per file.
// Lives outside React (useSyncExternalStore) so uploads go on while the user browses.
// Large files (MULTIPART_THRESHOLD and up) go in parts: they can pause, and after a failure or a
// page reload the same file chosen again resumes where it stopped.
import {
  AbortError,
  createLimiter,
  MULTIPART_THRESHOLD,
  UploadControl,
  uploadFile,
  type ChecksumsFactory,
  type ChuteOptions,
  type FileRecord,
  type UploadPhase,
} from '@chute/client';
import { workerChecksums } from '@chute/client/checksums';
import checksumsWorkerUrl from './checksums.worker.ts?worker&url';
import { describeError, formatBytes, isSignedOut } from './format';

/**
 * Content-MD5 of each part and the file's SHA-256, read and hashed in a Web Worker (hash-wasm) so
 * that the page stays responsive. The worker comes from the page's own origin even when the app's
 * scripts come from a CDN (STATIC_URL): browsers start workers from the page's origin only.
 */
const checksums: ChecksumsFactory | undefined =
  typeof Worker === 'undefined'
    ? undefined
    : workerChecksums(() => new Worker(new URL(checksumsWorkerUrl, document.baseURI), { type: 'module' }));

export type UploadState = 'queued' | UploadPhase | 'done' | 'error' | 'cancelled';

export interface UploadRow {
  key: string;
  file: File;
  state: UploadState;
  loaded: number;
  total: number;
  /** bytes per second over the last few seconds; null until measurable */
  speed: number | null;
  secondsLeft: number | null;
  error: string | null;
  record: FileRecord | null;
  /** cancel was asked; waiting for the upload to stop */
  cancelling: boolean;
  /** sent in parts: can pause, and resume after a reload */
  multipart: boolean;
  paused: boolean;
  /** bytes a resumed upload found already uploaded; null when it started from zero */
  resumedBytes: number | null;
}

export interface QueueEvents {
  onComplete?: (record: FileRecord) => void;
  onAnnounce?: (message: string) => void;
  onSignedOut?: () => void;
}

const ACTIVE: ReadonlySet<UploadState> = new Set(['queued', 'starting', 'uploading', 'finishing']);
export const isActive = (row: UploadRow) => ACTIVE.has(row.state);

const SPEED_WINDOW_MS = 3000;
const RENDER_EVERY_MS = 100;

export class UploadQueue {
  private rows: UploadRow[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly controls = new Map<string, UploadControl>();
  private readonly samples = new Map<string, Array<[time: number, loaded: number]>>();
  private readonly lastRender = new Map<string, number>();
  private readonly limit = createLimiter(3);
  private seq = 0;

  constructor(
    private readonly options: ChuteOptions,
    private readonly events: QueueEvents = {},
  ) {}

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.rows;

  add(files: Iterable<File>) {
    for (const file of files) {
      const key = `u${++this.seq}`;
      this.rows = [
        ...this.rows,
        {
          key,
          file,
          state: 'queued',
          loaded: 0,
          total: file.size,
          speed: null,
          secondsLeft: null,
          error: null,
          record: null,
          cancelling: false,
          multipart: file.size >= MULTIPART_THRESHOLD,
          paused: false,
          resumedBytes: null,
        },
      ];
      this.run(key);
    }
    this.emit();
  }

  cancel(key: string) {
    const controller = this.controllers.get(key);
    if (!controller) return;
    controller.abort();
    this.update(key, { cancelling: true });
    if (this.find(key)?.state === 'queued') {
      // not started yet: nothing to wait for
      this.controllers.delete(key);
      this.update(key, { state: 'cancelled', cancelling: false });
      this.events.onAnnounce?.(`${this.find(key)!.file.name}: cancelled.`);
    }
  }

  retry(key: string) {
    const row = this.find(key);
    if (!row || isActive(row) || row.state === 'done') return;
    this.update(key, {
      state: 'queued',
      loaded: 0,
      speed: null,
      secondsLeft: null,
      error: null,
      cancelling: false,
      paused: false,
      resumedBytes: null,
    });
    this.run(key);
  }

  /** stops sending a multipart upload's parts until resume() (the parts in flight are sent again) */
  pause(key: string) {
    const row = this.find(key);
    const control = this.controls.get(key);
    if (!row || !control || !isActive(row) || !row.multipart) return;
    control.pause();
    this.samples.delete(key);
    this.update(key, { paused: true, speed: null, secondsLeft: null });
    this.events.onAnnounce?.(`${row.file.name}: paused.`);
  }

  resume(key: string) {
    const row = this.find(key);
    const control = this.controls.get(key);
    if (!row || !control || !row.paused) return;
    control.resume();
    this.update(key, { paused: false });
    this.events.onAnnounce?.(`${row.file.name}: resumed.`);
  }

  remove(key: string) {
    const row = this.find(key);
    if (!row || isActive(row)) return;
    this.rows = this.rows.filter((r) => r.key !== key);
    this.emit();
  }

  clearFinished() {
    this.rows = this.rows.filter(isActive);
    this.emit();
  }

  cancelAll() {
    for (const controller of this.controllers.values()) controller.abort();
  }

  private find(key: string) {
    return this.rows.find((row) => row.key === key);
  }

  private update(key: string, patch: Partial<UploadRow>) {
    this.rows = this.rows.map((row) => (row.key === key ? { ...row, ...patch } : row));
    this.emit();
  }

  private emit() {
    for (const listener of this.listeners) listener();
  }

  private progress(key: string, loaded: number, total: number) {
    const now = performance.now();
    // parts a resumed upload finds already there are counted at once: no speed from them
    const resumed = this.find(key)?.resumedBytes ?? 0;
    if (loaded <= resumed) this.samples.delete(key);
    const samples = this.samples.get(key) ?? [];
    samples.push([now, loaded]);
    while (samples.length > 2 && now - samples[0]![0] > SPEED_WINDOW_MS) samples.shift();
    this.samples.set(key, samples);
    const [since, from] = samples[0]!;
    const elapsed = (now - since) / 1000;
    const speed = elapsed >= 0.4 ? (loaded - from) / elapsed : null;
    const secondsLeft = speed ? (total - loaded) / speed : null;
    // re-render at most every RENDER_EVERY_MS, but always show the start and the end
    if (loaded !== 0 && loaded !== total && now - (this.lastRender.get(key) ?? 0) < RENDER_EVERY_MS) return;
    this.lastRender.set(key, now);
    this.update(key, { loaded, total, speed, secondsLeft });
  }

  private run(key: string) {
    const row = this.find(key)!;
    const { file } = row;
    if (file.size === 0) {
      this.update(key, { state: 'error', error: 'This file is empty.' });
      this.events.onAnnounce?.(`${file.name}: failed. This file is empty.`);
      return;
    }
    const controller = new AbortController();
    const control = new UploadControl();
    this.controllers.set(key, controller);
    this.controls.set(key, control);
    this.samples.delete(key);
    // a cancelled-then-retried row has a newer run: the older one must not touch it any more
    const current = () => this.controllers.get(key) === controller;
    this.limit(() =>
      uploadFile(file, {
        ...this.options,
        signal: controller.signal,
        control,
        checksums,
        onPhase: (state) => current() && this.update(key, { state }),
        onProgress: ({ loaded, total }) => current() && this.progress(key, loaded, total),
        onResume: ({ uploadedBytes }) => {
          if (!current()) return;
          this.update(key, { resumedBytes: uploadedBytes });
          this.events.onAnnounce?.(`${file.name}: resuming, ${formatBytes(uploadedBytes)} already uploaded.`);
        },
      }),
    )
      .then(
        (record) => {
          if (!current()) return;
          this.update(key, { state: 'done', record, loaded: file.size, speed: null, secondsLeft: 0, paused: false });
          this.events.onAnnounce?.(`${file.name}: uploaded.`);
          this.events.onComplete?.(record);
        },
        (error: unknown) => {
          if (!current()) return;
          if (error instanceof AbortError) {
            this.update(key, {
              state: 'cancelled',
              cancelling: false,
              error: null,
              speed: null,
              secondsLeft: null,
              paused: false,
            });
            this.events.onAnnounce?.(`${file.name}: cancelled.`);
            return;
          }
          const message = describeError(error);
          this.update(key, {
            state: 'error',
            cancelling: false,
            error: message,
            speed: null,
            secondsLeft: null,
            paused: false,
          });
          this.events.onAnnounce?.(`${file.name}: failed. ${message}`);
          if (isSignedOut(error)) this.events.onSignedOut?.();
        },
      )
      .finally(() => {
        if (!current()) return;
        this.controllers.delete(key);
        this.controls.delete(key);
      });
  }
}
