import {
  useCallback,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type MouseEvent,
  type RefObject,
} from 'react';
import { useAnnounce } from '../Announcer';
import { DeleteDialog } from '../Dialog';
import { formatBytes, formatDate } from '../format';
import { Pager } from '../Pager';
import { useListPage } from '../useListPage';
import type { AdminContext } from './AdminApp';
import {
  deleteFiles,
  deletePending,
  fileQueryString,
  listFiles,
  listUsers,
  SORTS,
  type AdminFile,
  type AdminUser,
  type FileQuery,
  type Order,
  type AdminFilePage,
  type Sort,
  type Status,
} from './api';
import { adminNavigate, adminPath, flash, useLinkHandler } from './router';
import { Blank, Notice, useTitle, When } from './ui';

const PAGE_SIZE = 50;

const COLUMNS: Array<{ sort: Sort; label: string; className?: string }> = [
  { sort: 'id', label: 'ID', className: 'num' },
  { sort: 'original_file_name', label: 'Original name' },
  { sort: 'file_name', label: 'Generated name' },
  { sort: 'file_type', label: 'Type' },
  { sort: 'file_size', label: 'Size', className: 'num' },
];
const COLUMNS_AFTER_URL: Array<{ sort: Sort; label: string; className?: string }> = [
  { sort: 'uploaded_by', label: 'Uploaded by' },
  { sort: 'created_at', label: 'Created' },
  { sort: 'upload_finished_at', label: 'Upload finished' },
  { sort: 'is_valid', label: 'Valid' },
];

/** The list's state lives in the URL: back, forward, reload and links keep it. */
export function parseQuery(search: string): FileQuery {
  const params = new URLSearchParams(search);
  const sort = params.get('sort');
  const status = params.get('status');
  const offset = Number(params.get('offset'));
  const uploadedBy = params.get('uploaded_by') ?? '';
  return {
    search: params.get('search') ?? '',
    status: status === 'valid' || status === 'pending' ? status : '',
    uploadedBy: /^[0-9]{1,15}$/.test(uploadedBy) ? uploadedBy : '',
    sort: SORTS.includes(sort as Sort) ? (sort as Sort) : 'id',
    order: params.get('order') === 'asc' ? 'asc' : 'desc',
    offset: Number.isSafeInteger(offset) && offset > 0 ? offset : 0,
    limit: PAGE_SIZE,
  };
}

type Message = { kind: 'ok' | 'error' | 'warn'; text: string } | null;
type Confirm = null | { kind: 'selected'; files: AdminFile[] } | { kind: 'pending'; hours: number };
type Column = { sort: Sort; label: string; className?: string };

export function FileList({ context, search }: { context: AdminContext; search: string }) {
  useTitle('Files');
  const { fail } = context;
  const follow = useLinkHandler();
  const query = useMemo(() => parseQuery(search), [search]);
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [message, setMessage] = useState<Message>(() => {
    const text = flash.take();
    return text ? { kind: 'ok', text } : null;
  });
  const title = useRef<HTMLHeadingElement>(null);

  const go = (patch: Partial<FileQuery>) => {
    setMessage(null);
    adminNavigate(adminPath.files(fileQueryString({ ...query, offset: 0, ...patch })));
  };

  const load = useCallback(
    async (signal: AbortSignal) => {
      const result = await listFiles(query, signal);
      // a selection is of the rows shown: a new page starts without one
      setSelected(new Set());
      return result;
    },
    [query],
  );
  const { page, rows: files, count, loading, error, reload } = useListPage<AdminFilePage>(load, fail);
  const users = useUsers();
  const deletion = useDeletion(fail, reload, setMessage, title);
  const filtered = Boolean(query.search || query.status || query.uploadedBy);

  return (
    <section aria-labelledby="admin-files-title" aria-busy={loading}>
      <div className="page-title">
        <h1 id="admin-files-title" ref={title} tabIndex={-1}>
          Files
        </h1>
        <a className="button button--primary" href={adminPath.newFile()} onClick={follow}>
          Add file
        </a>
      </div>

      <Filters query={query} users={users} filtered={filtered} go={go} />

      {message && (
        <Notice kind={message.kind} testId="admin-message">
          {message.text}
        </Notice>
      )}
      {error && (
        <Notice kind="error" testId="admin-files-error">
          {error}
        </Notice>
      )}

      <SelectionBar
        count={page ? count : null}
        filtered={filtered}
        selected={selected.size}
        onDelete={() => deletion.ask({ kind: 'selected', files: files.filter((file) => selected.has(file.id)) })}
      />

      {files.length > 0 && (
        <FilesTable
          files={files}
          query={query}
          loading={loading}
          selected={selected}
          setSelected={setSelected}
          go={go}
        />
      )}

      <Pager
        offset={query.offset}
        limit={query.limit}
        shown={files.length}
        count={count}
        busy={loading}
        onOffset={(offset) => go({ offset })}
        top={title}
        rangeTestId="admin-range"
      />

      <PendingCleanup onAsk={(hours) => deletion.ask({ kind: 'pending', hours })} />

      <ConfirmDeletion
        confirm={deletion.confirm}
        busy={deletion.busy}
        error={deletion.error}
        onConfirm={() => void deletion.confirmed()}
        onCancel={deletion.cancel}
      />
    </section>
  );
}

/** The users for the "Uploaded by" filter. */
function useUsers() {
  const [users, setUsers] = useState<AdminUser[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    listUsers({ limit: 500 }, controller.signal).then(
      (result) => setUsers(result.results),
      () => undefined, // the filter then offers "Anyone" only; the list says what went wrong
    );
    return () => controller.abort();
  }, []);
  return users;
}

/** The confirm dialog's state (selected files, or old pending uploads); confirmed() deletes. */
function useDeletion(
  fail: (caught: unknown) => string,
  reload: () => void,
  setMessage: (message: Message) => void,
  title: RefObject<HTMLHeadingElement | null>,
) {
  const announce = useAnnounce();
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const ask = (what: Confirm) => {
    setError(null);
    setConfirm(what);
  };
  async function confirmed() {
    if (!confirm) return;
    setBusy(true);
    setError(null);
    try {
      if (confirm.kind === 'selected') {
        const result = await deleteFiles(confirm.files.map((file) => file.id));
        const text = result.deleted.length === 1 ? '1 file deleted.' : `${result.deleted.length} files deleted.`;
        setMessage({
          kind: 'ok',
          text: result.not_found.length ? `${text} ${result.not_found.length} had been deleted already.` : text,
        });
        announce(text);
      } else {
        const result = await deletePending(confirm.hours);
        const text = result.deleted === 1 ? '1 pending upload deleted.' : `${result.deleted} pending uploads deleted.`;
        setMessage({ kind: 'ok', text: `${text} (Started before ${formatDate(result.cutoff, true)}.)` });
        announce(text);
      }
      setConfirm(null);
      requestAnimationFrame(() => title.current?.focus());
    } catch (caught) {
      setError(fail(caught));
    } finally {
      setBusy(false);
      reload();
    }
  }
  return { confirm, busy, error, ask, confirmed, cancel: () => setConfirm(null) };
}

/** How many files (null: not known yet), how many selected, and the button to delete those. */
function SelectionBar({
  count,
  filtered,
  selected,
  onDelete,
}: {
  count: number | null;
  filtered: boolean;
  selected: number;
  onDelete: () => void;
}) {
  return (
    <div className="admin-bar">
      <p className="muted admin-bar__count" data-testid="admin-count">
        {count === null
          ? 'Loading…'
          : count === 0
            ? 'No files match.'
            : `${count.toLocaleString()} ${count === 1 ? 'file' : 'files'}${filtered ? ' match' : ''}`}
        {selected > 0 && ` · ${selected} selected`}
      </p>
      <button
        type="button"
        className="button button--small button--danger-quiet"
        disabled={selected === 0}
        onClick={onDelete}
        data-testid="delete-selected"
      >
        Delete selected
      </button>
    </div>
  );
}

function Filters({
  query,
  users,
  filtered,
  go,
}: {
  query: FileQuery;
  users: AdminUser[];
  filtered: boolean;
  go: (patch: Partial<FileQuery>) => void;
}) {
  const searchId = useId();
  const submitSearch = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    go({ search: String(new FormData(event.currentTarget).get('search') ?? '') });
  };
  return (
    <div className="card admin-filters">
      {/* biome-ignore lint/a11y/useSemanticElements: role=search on a form is what every supported browser and reader knows; <search> is new */}
      <form role="search" className="admin-filters__search" onSubmit={submitSearch} key={query.search}>
        <label htmlFor={searchId}>Search by name</label>
        <div className="admin-inline">
          <input
            id={searchId}
            name="search"
            type="search"
            defaultValue={query.search}
            placeholder="Original or generated name"
            data-testid="admin-search"
          />
          <button type="submit" className="button">
            Search
          </button>
        </div>
      </form>
      <div className="admin-field">
        <label htmlFor="admin-status">State</label>
        <select
          id="admin-status"
          value={query.status}
          onChange={(event) => go({ status: event.target.value as Status })}
          data-testid="admin-status"
        >
          <option value="">All</option>
          <option value="valid">Valid</option>
          <option value="pending">Pending</option>
        </select>
      </div>
      <div className="admin-field">
        <label htmlFor="admin-uploader">Uploaded by</label>
        <select
          id="admin-uploader"
          value={query.uploadedBy}
          onChange={(event) => go({ uploadedBy: event.target.value })}
          data-testid="admin-uploader"
        >
          <option value="">Anyone</option>
          {query.uploadedBy && !users.some((user) => String(user.id) === query.uploadedBy) && (
            <option value={query.uploadedBy}>User {query.uploadedBy}</option>
          )}
          {users.map((user) => (
            <option key={user.id} value={user.id}>
              {user.email}
            </option>
          ))}
        </select>
      </div>
      {filtered && (
        <button
          type="button"
          className="button button--quiet admin-filters__clear"
          onClick={() => go({ search: '', status: '', uploadedBy: '' })}
        >
          Clear filters
        </button>
      )}
    </div>
  );
}

function FilesTable({
  files,
  query,
  loading,
  selected,
  setSelected,
  go,
}: {
  files: AdminFile[];
  query: FileQuery;
  loading: boolean;
  selected: ReadonlySet<number>;
  setSelected: (update: (current: ReadonlySet<number>) => ReadonlySet<number>) => void;
  go: (patch: Partial<FileQuery>) => void;
}) {
  const follow = useLinkHandler();
  const allSelected = files.length > 0 && files.every((file) => selected.has(file.id));
  const someSelected = files.some((file) => selected.has(file.id));
  const toggle = (id: number) =>
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const sortBy = (sort: Sort) =>
    go({
      sort,
      order: query.sort === sort && query.order === 'asc' ? 'desc' : query.sort === sort ? 'asc' : defaultOrder(sort),
      offset: 0,
    });
  const header = (column: Column) => <SortHeader key={column.sort} column={column} query={query} onSort={sortBy} />;
  return (
    // biome-ignore lint/a11y/useSemanticElements: a named region (the table scrolls sideways on a narrow screen)
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must be reachable by keyboard
    <div className="admin-table-wrap" role="region" aria-label="Table of files" tabIndex={0}>
      <table className={`admin-table${loading ? ' admin-table--loading' : ''}`} data-testid="admin-files-table">
        <caption className="visually-hidden">
          Files, sorted by {[...COLUMNS, ...COLUMNS_AFTER_URL].find((c) => c.sort === query.sort)?.label} (
          {query.order === 'asc' ? 'ascending' : 'descending'})
        </caption>
        <thead>
          <tr>
            <th scope="col" className="admin-table__check">
              <SelectAll
                checked={allSelected}
                indeterminate={someSelected && !allSelected}
                onChange={(checked) => setSelected(() => (checked ? new Set(files.map((file) => file.id)) : new Set()))}
              />
            </th>
            {COLUMNS.map(header)}
            <th scope="col" className="admin-table__plain">
              URL
            </th>
            {COLUMNS_AFTER_URL.map(header)}
          </tr>
        </thead>
        <tbody>
          {files.map((file) => (
            <FileRow
              key={file.id}
              file={file}
              checked={selected.has(file.id)}
              onToggle={() => toggle(file.id)}
              follow={follow}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SortHeader({ column, query, onSort }: { column: Column; query: FileQuery; onSort: (sort: Sort) => void }) {
  const sorted = query.sort === column.sort;
  return (
    <th
      scope="col"
      className={column.className}
      aria-sort={sorted ? (query.order === 'asc' ? 'ascending' : 'descending') : undefined}
    >
      <button
        type="button"
        className="admin-sort"
        onClick={() => onSort(column.sort)}
        data-testid={`sort-${column.sort}`}
      >
        {column.label}
        <span className="admin-sort__arrow" aria-hidden="true">
          {sorted ? (query.order === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}

function FileRow({
  file,
  checked,
  onToggle,
  follow,
}: {
  file: AdminFile;
  checked: boolean;
  onToggle: () => void;
  follow: (event: MouseEvent<HTMLAnchorElement>) => void;
}) {
  const name = file.original_file_name;
  return (
    <tr
      data-testid="admin-file-row"
      data-id={file.id}
      data-name={name}
      data-state={file.is_valid ? 'valid' : 'pending'}
    >
      <td className="admin-table__check">
        <input type="checkbox" checked={checked} onChange={onToggle} aria-label={`Select ${name}`} />
      </td>
      <td className="num" data-label="ID">
        {file.id}
      </td>
      <th scope="row" className="admin-table__name" data-label="Original name">
        <a href={adminPath.file(file.id)} onClick={follow} title={name}>
          {name}
        </a>
      </th>
      <td data-label="Generated name" className="admin-mono" title={file.file_name}>
        {file.file_name}
      </td>
      <td data-label="Type" title={file.file_type}>
        {file.file_type}
      </td>
      <td
        className="num"
        data-label="Size"
        title={file.file_size === null ? undefined : `${file.file_size.toLocaleString()} bytes`}
      >
        {formatBytes(file.file_size)}
      </td>
      <td data-label="URL">
        {file.url ? (
          <a href={file.url} download={name} data-testid="download" aria-label={`Download ${name}`}>
            Download
          </a>
        ) : (
          <Blank />
        )}
      </td>
      <td data-label="Uploaded by" title={file.uploaded_by_email ?? undefined}>
        {file.uploaded_by_email ?? <Blank />}
      </td>
      <td data-label="Created">
        <When iso={file.created_at} />
      </td>
      <td data-label="Upload finished">
        <When iso={file.upload_finished_at} />
      </td>
      <td data-label="Valid">
        <span className={`badge badge--${file.is_valid ? 'valid' : 'pending'}`}>
          {file.is_valid ? 'Valid' : 'Pending'}
        </span>
      </td>
    </tr>
  );
}

function ConfirmDeletion({
  confirm,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  confirm: Confirm;
  busy: boolean;
  error: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <DeleteDialog
      open={confirm !== null}
      title={
        confirm?.kind === 'pending'
          ? 'Delete old pending uploads?'
          : confirm?.files.length === 1
            ? 'Delete this file?'
            : `Delete ${confirm?.files.length ?? 0} files?`
      }
      cancelLabel="Keep them"
      busy={busy}
      error={error}
      onConfirm={onConfirm}
      onCancel={onCancel}
      testId="admin-confirm"
    >
      {confirm?.kind === 'selected' && (
        <>
          <p>These files and their stored data will be deleted for good:</p>
          <ul className="admin-dialog-list">
            {confirm.files.slice(0, 6).map((file) => (
              <li key={file.id} className="break">
                {file.original_file_name}
              </li>
            ))}
            {confirm.files.length > 6 && <li>and {confirm.files.length - 6} more</li>}
          </ul>
        </>
      )}
      {confirm?.kind === 'pending' && (
        <p>
          Every upload that was started more than <strong>{confirm.hours} hours</strong> ago and never finished is
          deleted, with whatever part of it reached the storage.
        </p>
      )}
    </DeleteDialog>
  );
}

const defaultOrder = (sort: Sort): Order =>
  sort === 'id' || sort === 'created_at' || sort === 'upload_finished_at' || sort === 'file_size' ? 'desc' : 'asc';

function SelectAll({
  checked,
  indeterminate,
  onChange,
}: {
  checked: boolean;
  indeterminate: boolean;
  onChange: (checked: boolean) => void;
}) {
  const box = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (box.current) box.current.indeterminate = indeterminate;
  }, [indeterminate]);
  return (
    <input
      ref={box}
      type="checkbox"
      checked={checked}
      onChange={(event) => onChange(event.target.checked)}
      aria-label="Select all files on this page"
      data-testid="select-all"
    />
  );
}

function PendingCleanup({ onAsk }: { onAsk: (hours: number) => void }) {
  const [hours, setHours] = useState('24');
  const valid = /^\d+(\.\d+)?$/.test(hours.trim()) && Number(hours) <= 87600;
  return (
    <section className="card admin-cleanup" aria-labelledby="admin-cleanup-title">
      <h2 id="admin-cleanup-title">Pending uploads</h2>
      <p className="muted">Uploads that were started and never finished. The newest may still be in progress.</p>
      <form
        className="admin-inline"
        onSubmit={(event) => {
          event.preventDefault();
          if (valid) onAsk(Number(hours));
        }}
      >
        <label htmlFor="admin-pending-hours">Older than (hours)</label>
        <input
          id="admin-pending-hours"
          type="number"
          inputMode="decimal"
          min={0}
          max={87600}
          step="any"
          value={hours}
          onChange={(event) => setHours(event.target.value)}
          aria-invalid={!valid}
          className="admin-hours"
        />
        <button type="submit" className="button button--danger-quiet" disabled={!valid} data-testid="delete-pending">
          Delete pending uploads
        </button>
      </form>
    </section>
  );
}
