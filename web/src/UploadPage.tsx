import { useEffect, useMemo, useRef, useState, useSyncExternalStore, type DragEvent } from 'react';
import { chute } from './chute';
import { useAnnounce } from './Announcer';
import { formatBytes, formatSpeed, formatTimeLeft } from './format';
import { discardUnfinished, listUnfinished, type Unfinished } from './unfinished';
import { isActive, UploadQueue, type UploadRow } from './uploads';

interface Props {
  onUploaded: () => void;
  onSignedOut: () => void;
  onShowFiles: () => void;
}

export function UploadPage({ onUploaded, onSignedOut, onShowFiles }: Props) {
  const announce = useAnnounce();
  const events = useRef({ onUploaded, onSignedOut, announce });
  events.current = { onUploaded, onSignedOut, announce };
  const [queue] = useState(
    () =>
      new UploadQueue(chute, {
        onComplete: () => events.current.onUploaded(),
        onSignedOut: () => events.current.onSignedOut(),
        onAnnounce: (message) => events.current.announce(message),
      }),
  );
  useEffect(() => () => queue.cancelAll(), [queue]);
  const rows = useSyncExternalStore(queue.subscribe, queue.getSnapshot);

  // leaving the page would cut running uploads off: ask first
  const uploading = rows.some(isActive);
  useEffect(() => {
    if (!uploading) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [uploading]);

  const add = (files: FileList | File[] | null) => {
    const list = files ? Array.from(files) : [];
    if (!list.length) return;
    queue.add(list);
    announce(list.length === 1 ? `Uploading ${list[0]!.name}.` : `Uploading ${list.length} files.`);
  };

  // remembered multipart uploads not running now: choosing the same file again resumes them
  const [forgotten, setForgotten] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: forgotten changes when a discard changed the store read here
  const unfinished = useMemo(
    () =>
      listUnfinished().filter(
        (item) => !rows.some((row) => isActive(row) && row.file.name === item.name && row.file.size === item.size),
      ),
    [rows, forgotten],
  );
  const discard = async (item: Unfinished) => {
    await discardUnfinished(item);
    setForgotten((n) => n + 1);
    announce(`${item.name}: unfinished upload discarded.`);
  };

  // a button that goes away (Remove, Clear finished) must not drop the keyboard focus to the body:
  // before it goes, the focus moves on to the next row (or the one before), else to the page's title
  const title = useRef<HTMLHeadingElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const passFocus = (index: number | null) => {
    const items = list.current ? Array.from(list.current.children) : [];
    const item = index === null ? undefined : (items[index + 1] ?? items[index - 1]);
    (item?.querySelector<HTMLButtonElement>('button:not(:disabled)') ?? title.current)?.focus();
  };

  const finished = rows.filter((row) => !isActive(row)).length;
  const done = rows.filter((row) => row.state === 'done').length;

  return (
    <section aria-labelledby="upload-title">
      <h1 id="upload-title" ref={title} tabIndex={-1}>
        Upload files
      </h1>
      <DropZone onFiles={add} />
      {unfinished.length > 0 && <UnfinishedList items={unfinished} onDiscard={discard} />}
      {rows.length > 0 && (
        <div className="uploads">
          <div className="uploads__bar">
            <h2 className="uploads__title">
              Uploads{' '}
              <span className="muted">
                ({done} of {rows.length} done)
              </span>
            </h2>
            <div className="uploads__actions">
              {done > 0 && (
                <button type="button" className="button button--quiet" onClick={onShowFiles}>
                  View my files
                </button>
              )}
              <button
                type="button"
                className="button button--quiet"
                onClick={() => {
                  passFocus(null);
                  queue.clearFinished();
                }}
                disabled={finished === 0}
              >
                Clear finished
              </button>
            </div>
          </div>
          <ul className="upload-list" aria-label="Uploads" ref={list}>
            {rows.map((row, index) => (
              <UploadItem
                key={row.key}
                row={row}
                queue={queue}
                onRemove={() => {
                  passFocus(index);
                  queue.remove(row.key);
                }}
              />
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function UnfinishedList({ items, onDiscard }: { items: Unfinished[]; onDiscard: (item: Unfinished) => void }) {
  return (
    <section className="card unfinished" aria-labelledby="unfinished-title" data-testid="unfinished">
      <h2 id="unfinished-title" className="unfinished__title">
        Not finished
      </h2>
      <p className="muted unfinished__hint">Choose the same file again to continue where it stopped.</p>
      <ul className="unfinished__list">
        {items.map((item) => (
          <li key={item.storageKey} className="unfinished__item" data-testid="unfinished-item" data-name={item.name}>
            <span className="upload__name" title={item.name}>
              {item.name}
            </span>
            <span className="upload__size muted">{formatBytes(item.size)}</span>
            <button
              type="button"
              className="button button--small button--quiet"
              onClick={() => onDiscard(item)}
              aria-label={`Discard the unfinished upload of ${item.name}`}
            >
              Discard
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function DropZone({ onFiles }: { onFiles: (files: FileList | File[] | null) => void }) {
  const [over, setOver] = useState(false);
  const depth = useRef(0);
  const input = useRef<HTMLInputElement>(null);

  const hasFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a drop target for the mouse; the keyboard has the file picker inside
    <div
      className={`dropzone${over ? ' dropzone--over' : ''}`}
      data-testid="dropzone"
      onDragEnter={(event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        depth.current++;
        setOver(true);
      }}
      onDragOver={(event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(event) => {
        event.preventDefault();
        depth.current = 0;
        setOver(false);
        onFiles(event.dataTransfer.files);
      }}
    >
      <svg className="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true">
        <path d="M12 15V4m0 0L7.5 8.5M12 4l4.5 4.5M5 15v3a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2v-3" />
      </svg>
      <p className="dropzone__text">
        <span className="dropzone__drag">Drag and drop files here, or </span>
        <label htmlFor="file-input" className="button button--primary dropzone__pick">
          Choose files
        </label>
      </p>
      <input
        ref={input}
        id="file-input"
        data-testid="file-input"
        className="visually-hidden"
        type="file"
        multiple
        onChange={(event) => {
          onFiles(event.currentTarget.files);
          // the same file can be chosen again (e.g. after a failure)
          if (input.current) input.current.value = '';
        }}
      />
    </div>
  );
}

const STATE_TEXT: Record<UploadRow['state'], string> = {
  queued: 'Waiting…',
  starting: 'Starting…',
  uploading: 'Uploading…',
  finishing: 'Checking the upload…',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Cancelled',
};

function UploadItem({ row, queue, onRemove }: { row: UploadRow; queue: UploadQueue; onRemove: () => void }) {
  const name = row.file.name;
  const percent = row.total ? Math.floor((row.loaded / row.total) * 100) : 0;
  const active = isActive(row);
  const resuming = row.resumedBytes ? `Resuming: ${formatBytes(row.resumedBytes)} already uploaded` : null;
  let detail: string;
  if (row.state === 'error') detail = row.error ?? 'Failed.';
  else if (row.cancelling) detail = 'Cancelling…';
  else if (row.paused) detail = ['Paused', `${percent}%`].join(' · ');
  else if (row.state === 'uploading') {
    detail = [
      resuming,
      `${percent}%`,
      row.speed !== null ? formatSpeed(row.speed) : null,
      row.secondsLeft !== null && row.loaded < row.total ? formatTimeLeft(row.secondsLeft) : null,
    ]
      .filter(Boolean)
      .join(' · ');
  } else detail = STATE_TEXT[row.state];
  const canPause = active && row.multipart && !row.cancelling && (row.state === 'uploading' || row.paused);

  return (
    <li
      className={`upload upload--${row.state}${row.paused ? ' upload--paused' : ''}`}
      data-testid="upload-row"
      data-name={name}
      data-state={row.state}
      data-paused={row.paused || undefined}
      data-resumed-bytes={row.resumedBytes ?? undefined}
    >
      <div className="upload__head">
        <span className="upload__name" title={name}>
          {name}
        </span>
        <span className="upload__size muted">{formatBytes(row.file.size)}</span>
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Upload of ${name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={row.state === 'done' ? 100 : percent}
        aria-valuetext={
          row.state === 'done'
            ? 'Done'
            : row.state === 'error'
              ? 'Failed'
              : row.paused
                ? `Paused at ${percent}%`
                : `${percent}%`
        }
        data-testid="upload-progress"
      >
        <div className="progress__bar" style={{ transform: `scaleX(${row.state === 'done' ? 1 : percent / 100})` }} />
      </div>
      <div className="upload__foot">
        <p
          className={`upload__detail${row.state === 'error' ? ' upload__detail--error' : ''}`}
          data-testid={row.state === 'error' ? 'upload-error' : 'upload-status'}
        >
          {row.state === 'done' && (
            <svg className="icon icon--ok" viewBox="0 0 24 24" aria-hidden="true">
              <path d="m5 12.5 4.5 4.5L19 7.5" />
            </svg>
          )}
          {detail}
        </p>
        <div className="upload__buttons">
          {canPause &&
            (row.paused ? (
              <button
                type="button"
                className="button button--small"
                onClick={() => queue.resume(row.key)}
                aria-label={`Resume upload of ${name}`}
                data-testid="resume"
              >
                Resume
              </button>
            ) : (
              <button
                type="button"
                className="button button--small"
                onClick={() => queue.pause(row.key)}
                aria-label={`Pause upload of ${name}`}
                data-testid="pause"
              >
                Pause
              </button>
            ))}
          {/* Cancel and Retry share one slot, so React keeps the one <button> and the keyboard focus
              stays on it as it turns from one into the other; while cancelling it is aria-disabled,
              not disabled, which would drop the focus */}
          {active ? (
            <button
              type="button"
              className="button button--small"
              onClick={() => row.cancelling || queue.cancel(row.key)}
              aria-disabled={row.cancelling || undefined}
              aria-label={`Cancel upload of ${name}`}
              data-testid="cancel"
            >
              Cancel
            </button>
          ) : row.state === 'error' || row.state === 'cancelled' ? (
            <button
              type="button"
              className="button button--small"
              onClick={() => queue.retry(row.key)}
              aria-label={`Retry upload of ${name}`}
              data-testid="retry"
            >
              Retry
            </button>
          ) : null}
          {!active && (
            <button
              type="button"
              className="button button--small button--quiet"
              onClick={onRemove}
              aria-label={`Remove ${name} from the list`}
              data-testid="remove"
            >
              Remove
            </button>
          )}
        </div>
      </div>
    </li>
  );
}
