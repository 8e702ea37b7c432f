import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';

/** The page's title in the tab; the admin pages set their own. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Admin · Chute`;
  }, [title]);
}

/** A message on the page: errors are alerts (read at once), the rest a polite status. */
export function Notice({ kind, children, testId }: { kind: 'error' | 'ok' | 'warn'; children: ReactNode; testId?: string }) {
  return (
    <p className={`card notice admin-notice admin-notice--${kind}`} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </p>
  );
}

export function Progress({ loaded, total, label }: { loaded: number; total: number; label: string }) {
  const percent = total > 0 ? Math.round((loaded / total) * 100) : 0;
  return (
    <div className="admin-progress">
      <div className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div className="progress__bar" style={{ transform: `scaleX(${percent / 100})` }} />
      </div>
      <span className="muted admin-progress__text">{percent}%</span>
    </div>
  );
}

interface DialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busyLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  /** submitted as a form: the dialog's inputs are in `children` */
  onSubmit: (form: HTMLFormElement) => void;
  onCancel: () => void;
  testId?: string;
}

/**
 * A modal on the native <dialog> (focus trap, Escape, backdrop): a confirmation, or a small
 * form. The safe choice has the focus unless the form has a field to fill.
 */
export function Dialog({ open, title, children, confirmLabel, busyLabel, cancelLabel = 'Cancel', danger, busy, error, onSubmit, onCancel, testId }: DialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      const field = element.querySelector<HTMLInputElement>('input:not([type=hidden])');
      (field ?? cancel.current)?.focus();
    } else if (!open && element.open) element.close();
  }, [open]);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!busy) onSubmit(event.currentTarget);
  };

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
      onClick={(event) => {
        if (event.target === dialog.current && !busy) onCancel();
      }}
    >
      <form className="dialog__body" onSubmit={submit} noValidate>
        <h2 id={titleId}>{title}</h2>
        {open && children}
        <p className="form-error" role="alert">
          {error}
        </p>
        <div className="dialog__buttons">
          <button ref={cancel} type="button" className="button" onClick={onCancel} disabled={busy}>
            {cancelLabel}
          </button>
          <button type="submit" className={`button ${danger ? 'button--danger' : 'button--primary'}`} disabled={busy}>
            {busy ? busyLabel : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
