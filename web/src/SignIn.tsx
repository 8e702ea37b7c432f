import { useId, useState, type FormEvent } from 'react';
import { ChuteApiError, login, type User } from '@chute/client';
import { chute } from './chute';
import { describeError } from './format';

/** `notice` says why the user must sign in (again); `email` is filled in, and the password focused. */
export function SignIn({
  onSignedIn,
  notice,
  email,
}: {
  onSignedIn: (user: User) => void;
  notice?: string;
  email?: string;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const errorId = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { user } = await login(
        { email: String(data.get('email')).trim(), password: String(data.get('password')) },
        chute,
      );
      onSignedIn(user);
    } catch (caught) {
      setError(
        caught instanceof ChuteApiError && caught.code === 'invalid_credentials'
          ? 'Wrong email or password.'
          : caught instanceof ChuteApiError && caught.code === 'validation_failed'
            ? 'Enter your email address and password.'
            : describeError(caught),
      );
      setBusy(false);
    }
  }

  return (
    <section className="card signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      {notice ? (
        <p className="notice notice--warn signin__notice" role="alert" data-testid="signin-notice">
          {notice}
        </p>
      ) : (
        <p className="muted">Sign in to upload files and see the ones you have uploaded.</p>
      )}
      <form
        onSubmit={submit}
        data-testid="signin-form"
        aria-describedby={error ? errorId : undefined}
        noValidate={false}
      >
        <div className="field">
          <label htmlFor="email">Email</label>
          <input
            id="email"
            name="email"
            type="email"
            autoComplete="username"
            required
            // biome-ignore lint/a11y/noAutofocus: signing in is the page's one task; the first empty field gets the focus
            autoFocus={!email}
            defaultValue={email}
          />
        </div>
        <div className="field">
          <label htmlFor="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            // biome-ignore lint/a11y/noAutofocus: signing in is the page's one task; the first empty field gets the focus
            autoFocus={Boolean(email)}
          />
        </div>
        <p id={errorId} className="form-error" role="alert" data-testid="signin-error">
          {error}
        </p>
        <button type="submit" className="button button--primary button--wide" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
