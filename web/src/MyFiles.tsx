import { type RefObject, useCallback, useEffect, useRef, useState } from 'react';
import { deleteFile, listFiles, type FilePage, type FileRecord } from '@chute/client';
import { useAnnounce } from './Announcer';
import { chute } from './chute';
import { DeleteDialog } from './Dialog';
import { deleteIfPresent, describeError, formatBytes, formatDate, formatType, isSignedOut } from './format';
import { Pager } from './Pager';
import { TableHead } from './TableHead';
import { useListPage } from './useListPage';

const PAGE_SIZE = 20;
/** download links expire: a list older than this is fetched again when the tab is looked at */
const STALE_AFTER_MS = 5 * 60 * 1000;

/** ?offset=40 -> 40 (a whole page's start), anything else -> 0 */
const offsetOf = (search: string) => {
  const offset = Number(new URLSearchParams(search).get('offset'));
  return Number.isSafeInteger(offset) && offset > 0 ? offset - (offset % PAGE_SIZE) : 0;
};

/** The page offset, kept in the URL (/files?offset=20): reload, Back and a shared link keep it. */
function useOffsetInUrl() {
  const [offset, setOffsetState] = useState(() => offsetOf(location.search));
  const setOffset = useCallback((next: number, { replace = false } = {}) => {
    setOffsetState(next);
    const url = next > 0 ? `/files?offset=${next}` : '/files';
    if (url === location.pathname + location.search) return;
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
  }, []);
  useEffect(() => {
    const onPop = () => setOffsetState(offsetOf(location.search));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  return [offset, setOffset] as const;
}

/** Fetches again when the tab is looked at and the list is older than its download links. */
function useReloadWhenStale(fetchedAt: { current: number }, reload: () => void) {
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible' && Date.now() - fetchedAt.current > STALE_AFTER_MS) reload();
    };
    document.addEventListener('visibilitychange', onVisible);
    addEventListener('focus', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      removeEventListener('focus', onVisible);
    };
  }, [fetchedAt, reload]);
}

/** The delete dialog's state: which file, busy, the error; confirm() deletes and reloads the page. */
function useDeleteFile(
  fail: (caught: unknown) => string,
  reload: () => void,
  title: RefObject<HTMLHeadingElement | null>,
) {
  const announce = useAnnounce();
  const [toDelete, setToDelete] = useState<FileRecord | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  const ask = (file: FileRecord) => {
    setDeleteError(null);
    setToDelete(file);
  };
  async function confirm() {
    if (!toDelete) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      const deleted = await deleteIfPresent(() => deleteFile(toDelete.id, chute));
      announce(`${toDelete.original_file_name} ${deleted ? 'deleted' : 'was already deleted'}.`);
      setToDelete(null);
      // the row that had the focus is gone: continue from the page title
      requestAnimationFrame(() => title.current?.focus());
      reload();
    } catch (caught) {
      setDeleteError(fail(caught));
    } finally {
      setDeleting(false);
    }
  }
  return { toDelete, deleting, deleteError, ask, confirm, cancel: () => setToDelete(null) };
}

function FileRow({ file, onDelete }: { file: FileRecord; onDelete: (file: FileRecord) => void }) {
  const name = file.original_file_name;
  const uploaded = file.upload_finished_at ?? file.created_at;
  const state = file.is_valid ? 'valid' : 'pending';
  return (
    <tr data-testid="file-row" data-id={file.id} data-name={name} data-state={state}>
      <th scope="row" className="files__name" data-label="Name">
        <span title={name}>{name}</span>
      </th>
      <td data-label="Type" title={file.file_type}>
        {formatType(file.file_type)}
      </td>
      <td data-label="Size" className="num">
        {formatBytes(file.file_size)}
      </td>
      <td data-label="Uploaded">
        <time dateTime={uploaded} title={formatDate(uploaded, true)}>
          {formatDate(uploaded)}
        </time>
      </td>
      <td data-label="State">
        <span className={`badge badge--${state}`}>{file.is_valid ? 'Ready' : 'Pending'}</span>
      </td>
      <td className="files__actions">
        {file.url ? (
          <a
            className="button button--small"
            href={file.url}
            download={name}
            data-testid="download"
            aria-label={`Download ${name}`}
          >
            Download
          </a>
        ) : (
          <span className="button button--small button--placeholder" aria-hidden="true">
            Download
          </span>
        )}
        <button
          type="button"
          className="button button--small button--danger-quiet"
          onClick={() => onDelete(file)}
          aria-label={`Delete ${name}`}
          data-testid="delete"
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

function FilesTable({
  files,
  loading,
  onDelete,
}: {
  files: FileRecord[];
  loading: boolean;
  onDelete: (file: FileRecord) => void;
}) {
  return (
    <table className={`files${loading ? ' files--loading' : ''}`} data-testid="files-table">
      <caption className="visually-hidden">Your files, newest first</caption>
      <TableHead columns={['Name', 'Type', 'Size', 'Uploaded', 'State']} numeric={['Size']} />
      <tbody>
        {files.map((file) => (
          <FileRow key={file.id} file={file} onDelete={onDelete} />
        ))}
      </tbody>
    </table>
  );
}

export function MyFiles({ refreshKey, onSignedOut }: { refreshKey: number; onSignedOut: () => void }) {
  const [offset, setOffset] = useOffsetInUrl();
  const fetchedAt = useRef(0);
  const title = useRef<HTMLHeadingElement>(null);

  const fail = useCallback(
    (caught: unknown) => {
      if (isSignedOut(caught)) onSignedOut();
      return describeError(caught);
    },
    [onSignedOut],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new refreshKey (an upload finished) fetches the page again
  const load = useCallback(
    async (signal: AbortSignal) => {
      const result = await listFiles({ limit: PAGE_SIZE, offset }, { ...chute, signal });
      fetchedAt.current = Date.now();
      // a page emptied by deletions (or a link past the end): the last page there is
      if (!result.results.length && offset > 0)
        setOffset(Math.max(0, Math.ceil(result.count / PAGE_SIZE) - 1) * PAGE_SIZE, { replace: true });
      return result;
    },
    [offset, refreshKey, setOffset],
  );
  const { page, rows: files, count, loading, error, reload } = useListPage<FilePage>(load, fail);
  useReloadWhenStale(fetchedAt, reload);
  const deletion = useDeleteFile(fail, reload, title);

  return (
    <section aria-labelledby="files-title" aria-busy={loading}>
      <div className="page-title">
        <h1 id="files-title" ref={title} tabIndex={-1}>
          My files
        </h1>
        {/* not disabled while loading: that would drop the keyboard focus (a second press fetches anew) */}
        <button type="button" className="button button--quiet" onClick={reload}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="card notice notice--error" role="alert" data-testid="files-error">
          {error}
        </p>
      )}
      {page && count === 0 && !error && (
        <p className="card empty" data-testid="files-empty">
          No files yet. Uploaded files show up here.
        </p>
      )}
      {!page && loading && <p className="muted loading">Loading your files…</p>}
      {files.length > 0 && (
        <>
          <FilesTable files={files} loading={loading} onDelete={deletion.ask} />
          <Pager
            offset={offset}
            limit={PAGE_SIZE}
            shown={files.length}
            count={count}
            busy={loading}
            onOffset={setOffset}
            top={title}
          />
        </>
      )}
      <DeleteDialog
        open={deletion.toDelete !== null}
        title="Delete this file?"
        busy={deletion.deleting}
        error={deletion.deleteError}
        onConfirm={() => void deletion.confirm()}
        onCancel={deletion.cancel}
        testId="confirm-dialog"
        confirmTestId="confirm-delete"
      >
        <p>
          <strong className="break">{deletion.toDelete?.original_file_name}</strong> will be deleted for good. Its
          download links stop working.
        </p>
      </DeleteDialog>
    </section>
  );
}
