import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { getMe, logout, type User } from '@chute/client';
import { Announcer } from './Announcer';
import { chute } from './chute';
import { describeError, isSignedOut } from './format';
import { MyFiles } from './MyFiles';
import { pathOf, useRoute, type Route } from './router';
import { SignIn } from './SignIn';
import { UploadPage } from './UploadPage';

// the admin (staff only) is loaded when first opened
const AdminApp = lazy(() => import('./admin/AdminApp'));

type Auth =
  | { status: 'loading' }
  | { status: 'signed-out' }
  | { status: 'error'; message: string }
  | { status: 'signed-in'; user: User }
  // the session ended while the app was open: the user's pages stay (hidden) until they sign in again
  | { status: 'expired'; user: User };

export function App() {
  return (
    <Announcer>
      <Shell />
    </Announcer>
  );
}

function Shell() {
  const [auth, setAuth] = useState<Auth>({ status: 'loading' });
  const [route, navigate] = useRoute();

  const check = useCallback(() => {
    setAuth({ status: 'loading' });
    getMe(chute).then(
      (user) => setAuth({ status: 'signed-in', user }),
      (error) =>
        setAuth(isSignedOut(error) ? { status: 'signed-out' } : { status: 'error', message: describeError(error) }),
    );
  }, []);
  useEffect(check, [check]);

  // a request answered 401: the session expired or was ended elsewhere
  const sessionEnded = useCallback(
    () => setAuth((current) => (current.status === 'signed-in' ? { status: 'expired', user: current.user } : current)),
    [],
  );
  const signOut = useCallback(async () => {
    try {
      await logout(chute);
    } catch {
      // signed out either way
    }
    setAuth({ status: 'signed-out' });
  }, []);
  // counts sign-ins: My files and the admin start afresh after one (their errors were of the old session)
  const [session, setSession] = useState(0);
  const signedIn = useCallback((user: User) => {
    setAuth({ status: 'signed-in', user });
    setSession((n) => n + 1);
    // the sign-in form (and its focused button) is gone: continue from the page's content
    requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }));
  }, []);

  useEffect(() => {
    if (auth.status === 'signed-in' && route === 'admin') return; // the admin's pages name themselves
    document.title =
      auth.status === 'signed-out' || auth.status === 'expired'
        ? 'Sign in · Chute'
        : auth.status !== 'signed-in'
          ? 'Chute'
          : route === 'files'
            ? 'My files · Chute'
            : 'Upload · Chute';
  }, [auth.status, route]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="site-header__inner">
          <a
            className="brand"
            href="/"
            onClick={(event) => {
              event.preventDefault();
              navigate('upload');
            }}
          >
            <span className="brand__mark" aria-hidden="true" />
            Chute
          </a>
          {auth.status === 'signed-in' && (
            <>
              <nav className="site-nav" aria-label="Main">
                <NavLink route="upload" current={route} navigate={navigate}>
                  Upload
                </NavLink>
                <NavLink route="files" current={route} navigate={navigate}>
                  My files
                </NavLink>
                {auth.user.is_staff && (
                  <NavLink route="admin" current={route} navigate={navigate}>
                    Admin
                  </NavLink>
                )}
              </nav>
              <div className="account">
                <span className="account__email" data-testid="current-user" title={auth.user.email}>
                  {auth.user.email}
                </span>
                <button type="button" className="button button--quiet" onClick={signOut}>
                  Sign out
                </button>
              </div>
            </>
          )}
        </div>
      </header>
      <main id="main" className="site-main" tabIndex={-1}>
        {auth.status === 'loading' && (
          <p className="muted loading" role="status">
            Loading…
          </p>
        )}
        {auth.status === 'error' && (
          <div className="card notice" role="alert">
            <p>{auth.message}</p>
            <button type="button" className="button" onClick={check}>
              Try again
            </button>
          </div>
        )}
        {auth.status === 'signed-out' && <SignIn onSignedIn={signedIn} />}
        {auth.status === 'expired' && (
          <SignIn
            onSignedIn={signedIn}
            email={auth.user.email}
            notice="Your session has ended. Sign in again to continue: your uploads are still listed, and Retry sends the ones that failed."
          />
        )}
        {(auth.status === 'signed-in' || auth.status === 'expired') && (
          // kept while the session is renewed, so the upload list survives; keyed by user: signing in
          // as someone else starts with a clean slate
          <div hidden={auth.status === 'expired'}>
            <SignedIn
              key={auth.user.id}
              user={auth.user}
              session={session}
              route={route}
              navigate={navigate}
              onSignedOut={sessionEnded}
            />
          </div>
        )}
      </main>
    </>
  );
}

function NavLink({
  route,
  current,
  navigate,
  children,
}: {
  route: Route;
  current: Route;
  navigate: (r: Route) => void;
  children: string;
}) {
  return (
    <a
      href={pathOf(route)}
      className="site-nav__link"
      aria-current={route === current ? 'page' : undefined}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(route);
      }}
    >
      {children}
    </a>
  );
}

function SignedIn({
  user,
  session,
  route,
  navigate,
  onSignedOut,
}: {
  user: User;
  session: number;
  route: Route;
  navigate: (r: Route) => void;
  onSignedOut: () => void;
}) {
  // bumped whenever an upload completes, so "My files" refreshes
  const [uploadsDone, setUploadsDone] = useState(0);
  const onUploaded = useCallback(() => setUploadsDone((n) => n + 1), []);
  return (
    <>
      {/* kept mounted (hidden) so uploads go on while the user looks at their files */}
      <div hidden={route !== 'upload'}>
        <UploadPage onUploaded={onUploaded} onSignedOut={onSignedOut} onShowFiles={() => navigate('files')} />
      </div>
      {route === 'files' && <MyFiles key={session} refreshKey={uploadsDone} onSignedOut={onSignedOut} />}
      {route === 'admin' && (
        <Suspense
          fallback={
            <p className="muted loading" role="status">
              Loading…
            </p>
          }
        >
          <AdminApp key={session} user={user} onSignedOut={onSignedOut} />
        </Suspense>
      )}
    </>
  );
}
