import { useEffect, useRef, type ReactNode } from 'react';

interface Props {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}

/** A modal confirmation on the native <dialog>: focus trap, Escape and backdrop for free. */
export function ConfirmDialog({ open, title, children, confirmLabel, busy, error, onConfirm, onCancel }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      element.showModal();
      // the safe choice has the focus
      cancelButton.current?.focus();
    } else if (!open && element.open) element.close();
  }, [open]);

  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby="confirm-title"
      data-testid="confirm-dialog"
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
      onClick={(event) => {
        // a click on the backdrop
        if (event.target === dialog.current && !busy) onCancel();
      }}
    >
      <div className="dialog__body">
        <h2 id="confirm-title">{title}</h2>
        {children}
        <p className="form-error" role="alert">
          {error}
        </p>
        <div className="dialog__buttons">
          <button ref={cancelButton} type="button" className="button" onClick={onCancel} disabled={busy}>
            Keep it
          </button>
          <button type="button" className="button button--danger" onClick={onConfirm} disabled={busy} data-testid="confirm-delete">
            {busy ? 'Deleting…' : confirmLabel}
          </button>
        </div>
      </div>
    </dialog>
  );
}
