import { useEffect, type ReactNode } from 'react';
import { formatDate } from '../format';

/** The page's title in the tab; the admin pages set their own. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = `${title} · Admin · Chute`;
  }, [title]);
}

/** A message on the page: errors are alerts (read at once), the rest a polite status. */
export function Notice({
  kind,
  children,
  testId,
}: {
  kind: 'error' | 'ok' | 'warn';
  children: ReactNode;
  testId?: string;
}) {
  return (
    <p
      className={`card notice admin-notice notice--${kind}`}
      role={kind === 'error' ? 'alert' : 'status'}
      data-testid={testId}
    >
      {children}
    </p>
  );
}

/** A table cell's "no value". */
export const Blank = () => <span className="muted">—</span>;

/** A date as the lists show it (the full date and time on hover), or a blank. */
export function When({ iso }: { iso: string | null }) {
  if (!iso) return <Blank />;
  return (
    <time dateTime={iso} title={formatDate(iso, true)}>
      {formatDate(iso)}
    </time>
  );
}

export function Progress({ loaded, total, label }: { loaded: number; total: number; label: string }) {
  const percent = total > 0 ? Math.round((loaded / total) * 100) : 0;
  return (
    <div className="admin-progress">
      <div
        className="progress"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="progress__bar" style={{ transform: `scaleX(${percent / 100})` }} />
      </div>
      <span className="muted admin-progress__text">{percent}%</span>
    </div>
  );
}

/** A form's submit button, and while its upload runs, a Cancel that aborts it. */
export function UploadActions({
  uploading,
  label,
  busyLabel,
  testId,
  onCancel,
}: {
  uploading: boolean;
  label: string;
  busyLabel: string;
  testId: string;
  onCancel: () => void;
}) {
  return (
    <div className="admin-actions">
      <button type="submit" className="button button--primary" disabled={uploading} data-testid={testId}>
        {uploading ? busyLabel : label}
      </button>
      {uploading && (
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      )}
    </div>
  );
}
