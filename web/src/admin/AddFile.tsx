import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { uploadFile } from '@chute/client';
import { useAnnounce } from '../Announcer';
import { chute } from '../chute';
import { formatBytes, formatLimit } from '../format';
import type { AdminContext } from './AdminApp';
import { addFile, listUsers, type AdminUser } from './api';
import { adminNavigate, adminPath } from './router';
import { Notice, Progress, UploadActions, useTitle } from './ui';

type Method = 'server' | 'direct';

/**
 * Add a file: through the server (streamed, name and type inferred, valid at once, for any
 * uploader), or straight to the storage with the client library, as the web app uploads (for
 * big files; recorded as the staff member's own).
 */
export function AddFile({ context }: { context: AdminContext }) {
  useTitle('Add a file');
  const { me, settings, fail } = context;
  const announce = useAnnounce();
  const [file, setFile] = useState<File | null>(null);
  const [method, setMethod] = useState<Method>('server');
  const [uploader, setUploader] = useState(String(me.id));
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const controller = useRef<AbortController | null>(null);
  const fileId = useId();
  const hintId = useId();

  useEffect(() => {
    const abort = new AbortController();
    listUsers({ limit: 500 }, abort.signal).then(
      (result) => setUsers(result.results),
      () => undefined,
    );
    return () => abort.abort();
  }, []);
  useEffect(() => () => controller.current?.abort(), []);

  const limit = settings ? (method === 'server' ? settings.admin_max_size : settings.direct_max_size) : null;
  const uploading = progress !== null;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setError(null);
    if (!file) return setError('Choose a file first.');
    if (file.size === 0) return setError('This file is empty.');
    if (limit !== null && file.size > limit) {
      return setError(
        `This file is larger than the ${formatLimit(limit)} limit${method === 'server' ? ' for uploads through the server. Try the direct upload.' : '.'}`,
      );
    }
    const abort = new AbortController();
    controller.current = abort;
    setProgress({ loaded: 0, total: file.size });
    try {
      const onProgress = (loaded: number, total: number) => setProgress({ loaded, total });
      const created =
        method === 'server'
          ? await addFile(file, uploader, { signal: abort.signal, onProgress })
          : await uploadFile(file, {
              ...chute,
              signal: abort.signal,
              onProgress: ({ loaded, total }) => onProgress(loaded, total),
            });
      announce(`${file.name} added.`);
      adminNavigate(adminPath.file(created.id));
    } catch (caught) {
      setProgress(null);
      setError(abort.signal.aborted ? 'Cancelled. Nothing was saved.' : fail(caught));
    } finally {
      controller.current = null;
    }
  }

  return (
    <section aria-labelledby="admin-add-title">
      <h1 id="admin-add-title">Add a file</h1>
      <form className="card admin-form" onSubmit={submit} data-testid="admin-add-form" noValidate>
        <div className="field">
          <label htmlFor={fileId}>File</label>
          <input
            id={fileId}
            type="file"
            onChange={(event) => {
              setFile(event.target.files?.[0] ?? null);
              setError(null);
            }}
            disabled={uploading}
            aria-describedby={hintId}
            data-testid="admin-file-input"
          />
          <p id={hintId} className="muted admin-hint">
            {file ? `${file.name}, ${formatBytes(file.size)}. ` : ''}The name and the type are taken from the file.
          </p>
        </div>

        <fieldset className="admin-fieldset" disabled={uploading}>
          <legend>How to send it</legend>
          <label className="admin-choice">
            <input
              type="radio"
              name="method"
              value="server"
              checked={method === 'server'}
              onChange={() => setMethod('server')}
              data-testid="method-server"
            />
            <span>
              Through the server
              <span className="muted admin-choice__hint">
                {settings ? ` Up to ${formatLimit(settings.admin_max_size)}.` : ''} Valid at once; can be recorded for
                any user.
              </span>
            </span>
          </label>
          <label className="admin-choice">
            <input
              type="radio"
              name="method"
              value="direct"
              checked={method === 'direct'}
              onChange={() => setMethod('direct')}
              data-testid="method-direct"
            />
            <span>
              Directly to the storage
              <span className="muted admin-choice__hint">
                {settings ? ` Up to ${formatLimit(settings.direct_max_size)}.` : ''} For big files: the bytes skip the
                server. Recorded as yours.
              </span>
            </span>
          </label>
        </fieldset>

        <div className="field">
          <label htmlFor="admin-add-uploader">Uploaded by</label>
          <select
            id="admin-add-uploader"
            value={method === 'direct' ? String(me.id) : uploader}
            onChange={(event) => setUploader(event.target.value)}
            disabled={uploading || method === 'direct'}
            data-testid="admin-add-uploader"
          >
            {!users.some((user) => user.id === me.id) && <option value={me.id}>{me.email} (you)</option>}
            {users.map((user) => (
              <option key={user.id} value={user.id}>
                {user.id === me.id ? `${user.email} (you)` : user.email}
              </option>
            ))}
          </select>
        </div>

        {progress && (
          <Progress loaded={progress.loaded} total={progress.total} label={`Uploading ${file?.name ?? 'the file'}`} />
        )}
        {error && (
          <Notice kind="error" testId="admin-add-error">
            {error}
          </Notice>
        )}

        <UploadActions
          uploading={uploading}
          label="Upload"
          busyLabel="Uploading…"
          testId="admin-add-submit"
          onCancel={() => controller.current?.abort()}
        />
      </form>
    </section>
  );
}
