import { useCallback, useId, useRef, useState, type FormEvent } from 'react';
import { useAnnounce } from '../Announcer';
import { Dialog } from '../Dialog';
import { formatDate } from '../format';
import { Pager } from '../Pager';
import { TableHead } from '../TableHead';
import { useListPage } from '../useListPage';
import type { AdminContext } from './AdminApp';
import { createUser, fileQueryString, listUsers, setUserActive, setUserPassword, type AdminUser, type Page } from './api';
import { adminPath, useLinkHandler } from './router';
import { Notice, useTitle } from './ui';

const PAGE_SIZE = 50;
const MIN_PASSWORD = 8;

type Action = { kind: 'password'; user: AdminUser } | { kind: 'deactivate'; user: AdminUser } | null;

/** Users: list, create, deactivate or reactivate, reset a password. */
export function Users({ context }: { context: AdminContext }) {
  useTitle('Users');
  const { me, fail } = context;
  const announce = useAnnounce();
  const follow = useLinkHandler();
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const searchId = useId();
  const title = useRef<HTMLHeadingElement>(null);

  const load = useCallback((signal: AbortSignal) => listUsers({ search, offset, limit: PAGE_SIZE }, signal), [search, offset]);
  const { page, rows: users, count, loading, error, setError, reload } = useListPage<Page<AdminUser>>(load, fail);

  const done = (text: string) => {
    setMessage(text);
    announce(text);
    reload();
  };

  async function activate(user: AdminUser) {
    setError(null);
    try {
      await setUserActive(user.id, true);
      done(`${user.email} can sign in again.`);
    } catch (caught) {
      setError(fail(caught));
    }
  }

  async function confirmAction(form: HTMLFormElement) {
    if (!action) return;
    setDialogError(null);
    let password = '';
    if (action.kind === 'password') {
      password = String(new FormData(form).get('password') ?? '');
      if (password.length < MIN_PASSWORD) return setDialogError(`The password must have at least ${MIN_PASSWORD} characters.`);
    }
    setBusy(true);
    try {
      if (action.kind === 'password') {
        await setUserPassword(action.user.id, password);
        done(`New password set for ${action.user.email}. Their sessions ended.`);
      } else {
        await setUserActive(action.user.id, false);
        done(`${action.user.email} is deactivated and signed out everywhere.`);
      }
      setAction(null);
    } catch (caught) {
      setDialogError(fail(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="admin-users-title" aria-busy={loading}>
      <h1 id="admin-users-title" ref={title} tabIndex={-1}>
        Users
      </h1>

      <CreateUser fail={fail} onCreated={(user) => done(`${user.email} created${user.is_staff ? ' (staff)' : ''}.`)} />

      <form
        role="search"
        className="card admin-filters"
        onSubmit={(event) => {
          event.preventDefault();
          setOffset(0);
          setSearch(String(new FormData(event.currentTarget).get('search') ?? ''));
        }}
      >
        <div className="admin-filters__search">
          <label htmlFor={searchId}>Search by email</label>
          <div className="admin-inline">
            <input id={searchId} name="search" type="search" defaultValue={search} />
            <button type="submit" className="button">
              Search
            </button>
          </div>
        </div>
      </form>

      {message && (
        <Notice kind="ok" testId="admin-message">
          {message}
        </Notice>
      )}
      {error && (
        <Notice kind="error" testId="admin-users-error">
          {error}
        </Notice>
      )}
      <p className="muted">{page ? `${count.toLocaleString()} ${count === 1 ? 'user' : 'users'}` : 'Loading…'}</p>

      {users.length > 0 && (
        <div className="admin-table-wrap" role="region" aria-label="Table of users" tabIndex={0}>
          <table className={`admin-table admin-table--users${loading ? ' admin-table--loading' : ''}`} data-testid="admin-users-table">
            <caption className="visually-hidden">Users by email</caption>
            <TableHead columns={['Email', 'Role', 'State', 'Files', 'Created']} numeric={['Files']} />
            <tbody>
              {users.map((user) => (
                <tr key={user.id} data-testid="admin-user-row" data-email={user.email} data-active={user.is_active}>
                  <th scope="row" className="admin-table__name" data-label="Email">
                    <span title={user.email}>{user.email}</span>
                    {user.id === me.id && <span className="muted"> (you)</span>}
                  </th>
                  <td data-label="Role">{user.is_staff ? 'Staff' : 'User'}</td>
                  <td data-label="State">
                    <span className={`badge badge--${user.is_active ? 'valid' : 'pending'}`}>{user.is_active ? 'Active' : 'Deactivated'}</span>
                  </td>
                  <td className="num" data-label="Files">
                    {user.file_count > 0 ? (
                      <a
                        href={adminPath.files(fileQueryString({ search: '', status: '', uploadedBy: String(user.id), sort: 'id', order: 'desc', offset: 0, limit: 50 }))}
                        onClick={follow}
                        aria-label={`${user.file_count} files of ${user.email}`}
                      >
                        {user.file_count.toLocaleString()}
                      </a>
                    ) : (
                      0
                    )}
                  </td>
                  <td data-label="Created">{formatDate(user.created_at)}</td>
                  <td className="admin-table__actions">
                    <button
                      type="button"
                      className="button button--small"
                      onClick={() => {
                        setDialogError(null);
                        setAction({ kind: 'password', user });
                      }}
                      aria-label={`Reset password of ${user.email}`}
                    >
                      Reset password
                    </button>
                    {user.is_active ? (
                      <button
                        type="button"
                        className="button button--small button--danger-quiet"
                        disabled={user.id === me.id}
                        title={user.id === me.id ? 'You cannot deactivate yourself' : undefined}
                        onClick={() => {
                          setDialogError(null);
                          setAction({ kind: 'deactivate', user });
                        }}
                        aria-label={`Deactivate ${user.email}`}
                      >
                        Deactivate
                      </button>
                    ) : (
                      <button type="button" className="button button--small" onClick={() => void activate(user)} aria-label={`Activate ${user.email}`}>
                        Activate
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager offset={offset} limit={PAGE_SIZE} shown={users.length} count={count} busy={loading} onOffset={setOffset} top={title} />

      <Dialog
        open={action !== null}
        title={action?.kind === 'password' ? 'Set a new password' : 'Deactivate this user?'}
        confirmLabel={action?.kind === 'password' ? 'Set password' : 'Deactivate'}
        busyLabel={action?.kind === 'password' ? 'Saving…' : 'Deactivating…'}
        danger={action?.kind === 'deactivate'}
        busy={busy}
        error={dialogError}
        onSubmit={(form) => void confirmAction(form)}
        onCancel={() => setAction(null)}
        testId="admin-user-dialog"
      >
        {action?.kind === 'password' && (
          <>
            <p>
              For <strong className="break">{action.user.email}</strong>. They are signed out everywhere and sign in again with the new password.
            </p>
            <div className="field">
              <label htmlFor="admin-new-password">New password</label>
              <input id="admin-new-password" name="password" type="password" autoComplete="new-password" minLength={MIN_PASSWORD} required />
            </div>
          </>
        )}
        {action?.kind === 'deactivate' && (
          <p>
            <strong className="break">{action.user.email}</strong> is signed out everywhere at once and cannot sign in until activated again. Their files stay.
          </p>
        )}
      </Dialog>
    </section>
  );
}

function CreateUser({ fail, onCreated }: { fail: (error: unknown) => string; onCreated: (user: AdminUser) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const email = String(data.get('email') ?? '').trim();
    const password = String(data.get('password') ?? '');
    if (!email) return setError('Enter an email address.');
    if (password.length < MIN_PASSWORD) return setError(`The password must have at least ${MIN_PASSWORD} characters.`);
    setBusy(true);
    setError(null);
    try {
      const user = await createUser({ email, password, is_staff: data.get('is_staff') === 'on' });
      form.current?.reset();
      onCreated(user);
    } catch (caught) {
      setError(fail(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="card admin-create">
      <summary>Add a user</summary>
      <form ref={form} onSubmit={submit} noValidate data-testid="admin-create-user">
        <div className="admin-grid">
          <div className="field">
            <label htmlFor="admin-user-email">Email</label>
            <input id="admin-user-email" name="email" type="email" autoComplete="off" required />
          </div>
          <div className="field">
            <label htmlFor="admin-user-password">Password</label>
            <input id="admin-user-password" name="password" type="password" autoComplete="new-password" minLength={MIN_PASSWORD} required />
          </div>
        </div>
        <label className="admin-choice">
          <input type="checkbox" name="is_staff" />
          <span>Staff (may use this admin)</span>
        </label>
        {error && (
          <Notice kind="error" testId="admin-create-error">
            {error}
          </Notice>
        )}
        <button type="submit" className="button button--primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create user'}
        </button>
      </form>
    </details>
  );
}
