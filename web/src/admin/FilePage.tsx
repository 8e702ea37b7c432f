import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ChuteApiError } from '@chute/client';
import { useAnnounce } from '../Announcer';
import { DeleteDialog } from '../Dialog';
import { deleteIfPresent, formatBytes, formatDate, formatLimit } from '../format';
import type { AdminContext } from './AdminApp';
import { deleteFile, getFile, replaceFile, type AdminFile } from './api';
import { adminNavigate, adminPath, flash, useLinkHandler } from './router';
import { Notice, Progress, UploadActions, useTitle } from './ui';

const METHODS: Record<string, string> = {
  standard: 'Through the server',
  post: 'Direct (presigned POST)',
  multipart: 'Direct (multipart)',
  put: 'Direct (single PUT)',
};

/** One file: its metadata (read-only), download, replace, delete. */
export function FilePage({ context, id }: { context: AdminContext; id: number }) {
  const { settings, fail } = context;
  const announce = useAnnounce();
  const follow = useLinkHandler();
  const [file, setFile] = useState<AdminFile | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'warn'; text: string } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  useTitle(file ? file.original_file_name : `File ${id}`);

  useEffect(() => {
    const controller = new AbortController();
    getFile(id, controller.signal).then(setFile, (caught) => {
      if (!controller.signal.aborted) setLoadError(fail(caught));
    });
    return () => controller.abort();
  }, [id, fail]);

  async function remove() {
    if (!file) return;
    setDeleting(true);
    setDeleteError(null);
    try {
      const deleted = await deleteIfPresent(() => deleteFile(file.id));
      const text = `${file.original_file_name} ${deleted ? 'deleted' : 'was already deleted'}.`;
      announce(text);
      flash.set(text);
      adminNavigate(adminPath.files(), { replace: true });
    } catch (caught) {
      setDeleteError(fail(caught));
      setDeleting(false);
    }
  }

  const back = (
    <a href={adminPath.files()} onClick={follow} className="admin-back">
      ← All files
    </a>
  );
  if (loadError) {
    return (
      <section aria-labelledby="admin-file-title">
        {back}
        <h1 id="admin-file-title">File {id}</h1>
        <Notice kind="error" testId="admin-file-error">
          {loadError}
        </Notice>
      </section>
    );
  }
  if (!file) {
    return (
      <p className="muted loading" role="status">
        Loading the file…
      </p>
    );
  }

  return (
    <section aria-labelledby="admin-file-title" data-testid="admin-file-page" data-id={file.id}>
      {back}
      <div className="page-title">
        <h1 id="admin-file-title" className="break" data-testid="admin-file-title">
          {file.original_file_name}
        </h1>
        <span className={`badge badge--${file.is_valid ? 'valid' : 'pending'}`}>
          {file.is_valid ? 'Valid' : 'Pending'}
        </span>
      </div>
      {message && (
        <Notice kind={message.kind} testId="admin-message">
          {message.text}
        </Notice>
      )}

      <div className="card">
        <dl className="admin-meta" data-testid="admin-meta">
          <Meta label="ID">{file.id}</Meta>
          <Meta label="Original name" testId="meta-original">
            {file.original_file_name}
          </Meta>
          <Meta label="Generated name" testId="meta-generated" mono>
            {file.file_name}
          </Meta>
          <Meta label="Type" testId="meta-type">
            {file.file_type}
          </Meta>
          <Meta label="Size" testId="meta-size">
            {file.file_size === null
              ? '—'
              : `${formatBytes(file.file_size)} (${file.file_size.toLocaleString()} bytes)`}
          </Meta>
          <Meta label="Uploaded by">{file.uploaded_by_email ?? '—'}</Meta>
          <Meta label="Created">{formatDate(file.created_at, true)}</Meta>
          <Meta label="Upload finished at" testId="meta-finished">
            {formatDate(file.upload_finished_at, true)}
          </Meta>
          <Meta label="Sent">{METHODS[file.upload_method] ?? file.upload_method}</Meta>
        </dl>
        <div className="admin-actions">
          {file.url ? (
            <a className="button" href={file.url} download={file.original_file_name} data-testid="download">
              Download
            </a>
          ) : (
            <span className="muted">No download until the upload is finished.</span>
          )}
          <button
            type="button"
            className="button button--danger-quiet"
            onClick={() => {
              setDeleteError(null);
              setConfirmDelete(true);
            }}
            data-testid="admin-delete"
          >
            Delete
          </button>
        </div>
      </div>

      <Replace
        file={file}
        maxSize={settings?.admin_max_size ?? null}
        fail={fail}
        onReplaced={(next, previousRemoved) => {
          setFile(next);
          const text = `Replaced with ${next.original_file_name}.`;
          announce(text);
          setMessage(
            previousRemoved
              ? { kind: 'ok', text }
              : {
                  kind: 'warn',
                  text: `${text} The old stored file could not be deleted (storage unreachable); it is left over in the storage.`,
                },
          );
        }}
      />

      <DeleteDialog
        open={confirmDelete}
        title="Delete this file?"
        busy={deleting}
        error={deleteError}
        onConfirm={() => void remove()}
        onCancel={() => setConfirmDelete(false)}
        testId="admin-confirm"
      >
        <p>
          <strong className="break">{file.original_file_name}</strong> and its stored data will be deleted for good. Its
          download links stop working.
        </p>
      </DeleteDialog>
    </section>
  );
}

function Meta({
  label,
  children,
  mono,
  testId,
}: {
  label: string;
  children: ReactNode;
  mono?: boolean;
  testId?: string;
}) {
  return (
    <div className="admin-meta__row">
      <dt>{label}</dt>
      <dd className={mono ? 'admin-mono break' : 'break'} data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

function Replace({
  file,
  maxSize,
  fail,
  onReplaced,
}: {
  file: AdminFile;
  maxSize: number | null;
  fail: (error: unknown) => string;
  onReplaced: (file: AdminFile, previousRemoved: boolean) => void;
}) {
  const [chosen, setChosen] = useState<File | null>(null);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const controller = useRef<AbortController | null>(null);
  const inputId = useId();
  const hintId = useId();
  useEffect(() => () => controller.current?.abort(), []);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (!chosen) return setError('Choose the new file first.');
    if (chosen.size === 0) return setError('This file is empty.');
    if (maxSize !== null && chosen.size > maxSize)
      return setError(`This file is larger than the ${formatLimit(maxSize)} limit. Nothing was changed.`);
    const abort = new AbortController();
    controller.current = abort;
    setProgress({ loaded: 0, total: chosen.size });
    try {
      const result = await replaceFile(file.id, chosen, {
        signal: abort.signal,
        onProgress: (loaded, total) => setProgress({ loaded, total }),
      });
      setChosen(null);
      if (input.current) input.current.value = '';
      onReplaced(result.file, result.previous_removed);
    } catch (caught) {
      // the server answered: then it guarantees nothing changed
      setError(
        abort.signal.aborted
          ? 'Cancelled.'
          : caught instanceof ChuteApiError
            ? `${fail(caught)} Nothing was changed.`
            : fail(caught),
      );
    } finally {
      setProgress(null);
      controller.current = null;
    }
  }

  return (
    <section className="card admin-replace" aria-labelledby="admin-replace-title">
      <h2 id="admin-replace-title">Replace the file</h2>
      <p className="muted" id={hintId}>
        The new file gets a new generated name and its type is taken from its name again. The old stored file is deleted
        once the new one is stored
        {maxSize !== null ? `. Up to ${formatLimit(maxSize)}.` : '.'}
      </p>
      <form onSubmit={submit} noValidate data-testid="admin-replace-form">
        <div className="field">
          <label htmlFor={inputId}>New file</label>
          <input
            ref={input}
            id={inputId}
            type="file"
            aria-describedby={hintId}
            disabled={progress !== null}
            onChange={(event) => {
              setChosen(event.target.files?.[0] ?? null);
              setError(null);
            }}
            data-testid="admin-replace-input"
          />
        </div>
        {progress && (
          <Progress
            loaded={progress.loaded}
            total={progress.total}
            label={`Replacing with ${chosen?.name ?? 'the new file'}`}
          />
        )}
        {error && (
          <Notice kind="error" testId="admin-replace-error">
            {error}
          </Notice>
        )}
        <UploadActions
          uploading={progress !== null}
          label="Replace"
          busyLabel="Replacing…"
          testId="admin-replace-submit"
          onCancel={() => controller.current?.abort()}
        />
      </form>
    </section>
  );
}
