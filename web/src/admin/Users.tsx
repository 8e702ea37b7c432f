import { useCallback, useId, useRef, useState, type FormEvent } from 'react';
import { useAnnounce } from '../Announcer';
import { Dialog } from '../Dialog';
import { formatDate } from '../format';
import { Pager } from '../Pager';
import { TableHead } from '../TableHead';
import { useListPage } from '../useListPage';
import type { AdminContext } from './AdminApp';
import {
  createUser,
  fileQueryString,
  listUsers,
  setUserActive,
  setUserPassword,
  type AdminUser,
  type AdminUserPage,
} from './api';
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
  const [search, setSearch] = useState('');
  const [offset, setOffset] = useState(0);
  const [message, setMessage] = useState<string | null>(null);
  const title = useRef<HTMLHeadingElement>(null);

  const load = useCallback(
    (signal: AbortSignal) => listUsers({ search, offset, limit: PAGE_SIZE }, signal),
    [search, offset],
  );
  const { page, rows: users, count, loading, error, setError, reload } = useListPage<AdminUserPage>(load, fail);

  const done = (text: string) => {
    setMessage(text);
    announce(text);
    reload();
  };
  const action = useUserAction(fail, done);

  async function activate(user: AdminUser) {
    setError(null);
    try {
      await setUserActive(user.id, true);
      done(`${user.email} can sign in again.`);
    } catch (caught) {
      setError(fail(caught));
    }
  }

  return (
    <section aria-labelledby="admin-users-title" aria-busy={loading}>
      <h1 id="admin-users-title" ref={title} tabIndex={-1}>
        Users
      </h1>

      <CreateUser fail={fail} onCreated={(user) => done(`${user.email} created${user.is_staff ? ' (staff)' : ''}.`)} />

      <UserSearch
        search={search}
        onSearch={(next) => {
          setOffset(0);
          setSearch(next);
        }}
      />

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
        <UsersTable
          users={users}
          loading={loading}
          meId={me.id}
          onAsk={action.ask}
          onActivate={(user) => void activate(user)}
        />
      )}
      <Pager
        offset={offset}
        limit={PAGE_SIZE}
        shown={users.length}
        count={count}
        busy={loading}
        onOffset={setOffset}
        top={title}
      />

      <UserActionDialog
        action={action.action}
        busy={action.busy}
        error={action.error}
        onSubmit={(form) => void action.confirm(form)}
        onCancel={action.cancel}
      />
    </section>
  );
}

/** The dialog's state (a new password, or deactivating); confirm() does it and reports through done(). */
function useUserAction(fail: (error: unknown) => string, done: (text: string) => void) {
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const ask = (next: Action) => {
    setError(null);
    setAction(next);
  };
  async function confirm(form: HTMLFormElement) {
    if (!action) return;
    setError(null);
    let password = '';
    if (action.kind === 'password') {
      password = String(new FormData(form).get('password') ?? '');
      if (password.length < MIN_PASSWORD)
        return setError(`The password must have at least ${MIN_PASSWORD} characters.`);
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
      setError(fail(caught));
    } finally {
      setBusy(false);
    }
  }
  return { action, busy, error, ask, confirm, cancel: () => setAction(null) };
}

function UserSearch({ search, onSearch }: { search: string; onSearch: (search: string) => void }) {
  const searchId = useId();
  return (
    // biome-ignore lint/a11y/useSemanticElements: role=search on a form is what every supported browser and reader knows; <search> is new
    <form
      role="search"
      className="card admin-filters"
      onSubmit={(event) => {
        event.preventDefault();
        onSearch(String(new FormData(event.currentTarget).get('search') ?? ''));
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
  );
}

type RowProps = { meId: number; onAsk: (action: Action) => void; onActivate: (user: AdminUser) => void };

function UsersTable({ users, loading, ...row }: { users: AdminUser[]; loading: boolean } & RowProps) {
  return (
    // biome-ignore lint/a11y/useSemanticElements: a named region (the table scrolls sideways on a narrow screen)
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must be reachable by keyboard
    <div className="admin-table-wrap" role="region" aria-label="Table of users" tabIndex={0}>
      <table
        className={`admin-table admin-table--users${loading ? ' admin-table--loading' : ''}`}
        data-testid="admin-users-table"
      >
        <caption className="visually-hidden">Users by email</caption>
        <TableHead columns={['Email', 'Role', 'State', 'Files', 'Created']} numeric={['Files']} />
        <tbody>
          {users.map((user) => (
            <UserRow key={user.id} user={user} {...row} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The admin's file list, filtered to this user's files. */
const filesOf = (user: AdminUser) =>
  adminPath.files(
    fileQueryString({
      search: '',
      status: '',
      uploadedBy: String(user.id),
      sort: 'id',
      order: 'desc',
      offset: 0,
      limit: 50,
    }),
  );

function UserRow({ user, meId, onAsk, onActivate }: { user: AdminUser } & RowProps) {
  const follow = useLinkHandler();
  return (
    <tr data-testid="admin-user-row" data-email={user.email} data-active={user.is_active}>
      <th scope="row" className="admin-table__name" data-label="Email">
        <span title={user.email}>{user.email}</span>
        {user.id === meId && <span className="muted"> (you)</span>}
      </th>
      <td data-label="Role">{user.is_staff ? 'Staff' : 'User'}</td>
      <td data-label="State">
        <span className={`badge badge--${user.is_active ? 'valid' : 'pending'}`}>
          {user.is_active ? 'Active' : 'Deactivated'}
        </span>
      </td>
      <td className="num" data-label="Files">
        {user.file_count > 0 ? (
          <a href={filesOf(user)} onClick={follow} aria-label={`${user.file_count} files of ${user.email}`}>
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
          onClick={() => onAsk({ kind: 'password', user })}
          aria-label={`Reset password of ${user.email}`}
        >
          Reset password
        </button>
        {user.is_active ? (
          <button
            type="button"
            className="button button--small button--danger-quiet"
            disabled={user.id === meId}
            title={user.id === meId ? 'You cannot deactivate yourself' : undefined}
            onClick={() => onAsk({ kind: 'deactivate', user })}
            aria-label={`Deactivate ${user.email}`}
          >
            Deactivate
          </button>
        ) : (
          <button
            type="button"
            className="button button--small"
            onClick={() => onActivate(user)}
            aria-label={`Activate ${user.email}`}
          >
            Activate
          </button>
        )}
      </td>
    </tr>
  );
}

function UserActionDialog({
  action,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  action: Action;
  busy: boolean;
  error: string | null;
  onSubmit: (form: HTMLFormElement) => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      open={action !== null}
      title={action?.kind === 'password' ? 'Set a new password' : 'Deactivate this user?'}
      confirmLabel={action?.kind === 'password' ? 'Set password' : 'Deactivate'}
      busyLabel={action?.kind === 'password' ? 'Saving…' : 'Deactivating…'}
      danger={action?.kind === 'deactivate'}
      busy={busy}
      error={error}
      onSubmit={onSubmit}
      onCancel={onCancel}
      testId="admin-user-dialog"
    >
      {action?.kind === 'password' && (
        <>
          <p>
            For <strong className="break">{action.user.email}</strong>. They are signed out everywhere and sign in again
            with the new password.
          </p>
          <div className="field">
            <label htmlFor="admin-new-password">New password</label>
            <input
              id="admin-new-password"
              name="password"
              type="password"
              autoComplete="new-password"
              minLength={MIN_PASSWORD}
              required
            />
          </div>
        </>
      )}
      {action?.kind === 'deactivate' && (
        <p>
          <strong className="break">{action.user.email}</strong> is signed out everywhere at once and cannot sign in
          until activated again. Their files stay.
        </p>
      )}
    </Dialog>
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
            <input
              id="admin-user-password"
              name="password"
              type="password"
              autoComplete="new-password"
              minLength={MIN_PASSWORD}
              required
            />
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
