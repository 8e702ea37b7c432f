import { useEffect, useId, useRef, type FormEvent, type ReactNode } from 'react';

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
  confirmTestId?: string;
}

/**
 * A modal on the native <dialog> (focus trap, Escape, backdrop), for the web app and the admin:
 * a confirmation, or a small form. The safe choice has the focus unless the form has a field to fill.
 */
export function Dialog({
  open,
  title,
  children,
  confirmLabel,
  busyLabel,
  cancelLabel = 'Cancel',
  danger,
  busy,
  error,
  onSubmit,
  onCancel,
  testId,
  confirmTestId,
}: DialogProps) {
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
    // biome-ignore lint/a11y/useKeyWithClickEvents: the backdrop click's keyboard twin is Escape (onCancel)
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(event) => {
        // Escape: React decides when the dialog closes, and never while busy
        event.preventDefault();
        if (!busy) onCancel();
      }}
      onClick={(event) => {
        // a click on the backdrop
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
          <button
            type="submit"
            className={`button ${danger ? 'button--danger' : 'button--primary'}`}
            disabled={busy}
            data-testid={confirmTestId}
          >
            {busy ? busyLabel : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

type DeleteDialogProps = Omit<DialogProps, 'confirmLabel' | 'busyLabel' | 'danger' | 'onSubmit'> & {
  onConfirm: () => void;
};

/** The one way to ask before something is deleted for good: same words, same danger button everywhere. */
export function DeleteDialog({ onConfirm, cancelLabel = 'Keep it', ...props }: DeleteDialogProps) {
  return (
    <Dialog
      {...props}
      confirmLabel="Delete"
      busyLabel="Deleting…"
      cancelLabel={cancelLabel}
      danger
      onSubmit={onConfirm}
    />
  );
}
