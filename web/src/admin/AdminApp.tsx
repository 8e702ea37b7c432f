// The admin for staff at /admin: everyone's files and the users. A part of the web app, loaded
// only when opened; everything it does goes through the admin API (/api/admin/...), which checks
// staff on every request. This page's own check only decides what to show.
import { useCallback, useEffect, useState } from 'react';
import type { User } from '@chute/client';
import { describeError, isSignedOut } from '../format';
import { AddFile } from './AddFile';
import { getSettings, type AdminSettings } from './api';
import { FileList } from './FileList';
import { FilePage } from './FilePage';
import { adminPath, useAdminLocation, useLinkHandler, type AdminPage } from './router';
import { useTitle } from './ui';
import { Users } from './Users';
import { Webhooks } from './Webhooks';
import './admin.css';

export interface AdminContext {
  me: User;
  settings: AdminSettings | null;
  /** any failed API call: decides whether the session is gone or staff rights were lost */
  fail: (error: unknown) => string;
}

export default function AdminApp({ user, onSignedOut }: { user: User; onSignedOut: () => void }) {
  const [forbidden, setForbidden] = useState(!user.is_staff);
  const [settings, setSettings] = useState<AdminSettings | null>(null);
  const { page, search } = useAdminLocation();

  const fail = useCallback(
    (error: unknown) => {
      if (isSignedOut(error)) onSignedOut();
      if (error && typeof error === 'object' && 'code' in error && error.code === 'permission_denied')
        setForbidden(true);
      return describeError(error);
    },
    [onSignedOut],
  );

  useEffect(() => {
    if (forbidden) return;
    const controller = new AbortController();
    getSettings(controller.signal).then(setSettings, (error) => {
      if (!controller.signal.aborted) fail(error);
    });
    return () => controller.abort();
  }, [forbidden, fail]);

  if (forbidden) return <Forbidden user={user} />;
  const context: AdminContext = { me: user, settings, fail };
  return (
    <div className="admin" data-testid="admin">
      <AdminNav page={page} />
      {page.page === 'files' && <FileList context={context} search={search} />}
      {page.page === 'new' && <AddFile context={context} />}
      {page.page === 'file' && <FilePage key={page.id} context={context} id={page.id} />}
      {page.page === 'users' && <Users context={context} />}
      {page.page === 'webhooks' && <Webhooks context={context} />}
      {page.page === 'missing' && <Missing />}
    </div>
  );
}

function AdminNav({ page }: { page: AdminPage }) {
  const follow = useLinkHandler();
  const current = page.page === 'file' ? 'files' : page.page;
  const links = [
    ['files', adminPath.files(), 'Files'],
    ['new', adminPath.newFile(), 'Add file'],
    ['users', adminPath.users(), 'Users'],
    ['webhooks', adminPath.webhooks(), 'Webhooks'],
  ] as const;
  return (
    <nav className="admin-nav" aria-label="Admin">
      {links.map(([key, href, label]) => (
        <a
          key={key}
          href={href}
          className="admin-nav__link"
          aria-current={current === key ? 'page' : undefined}
          onClick={follow}
        >
          {label}
        </a>
      ))}
    </nav>
  );
}

function Forbidden({ user }: { user: User }) {
  useTitle('Staff only');
  return (
    <section className="card admin-forbidden" aria-labelledby="forbidden-title" data-testid="admin-forbidden">
      <p className="admin-forbidden__code" aria-hidden="true">
        403
      </p>
      <h1 id="forbidden-title">Staff only</h1>
      <p>
        The admin is for staff. You are signed in as <strong className="break">{user.email}</strong>, which is not a
        staff account.
      </p>
      <p className="muted">Ask a staff member if you need access. Your own files are under My files.</p>
      <a className="button" href="/files">
        Go to My files
      </a>
    </section>
  );
}

function Missing() {
  useTitle('Not found');
  const follow = useLinkHandler();
  return (
    <section className="card" aria-labelledby="missing-title">
      <h1 id="missing-title">No such admin page</h1>
      <a href={adminPath.files()} onClick={follow}>
        Back to the files
      </a>
    </section>
  );
}
