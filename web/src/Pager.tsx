import type { RefObject } from 'react';

/** Previous / "first–last of count" / Next, for a list shown a page of `limit` at a time. */
export function Pager({
  offset,
  limit,
  shown,
  count,
  busy,
  onOffset,
  top,
  rangeTestId,
}: {
  offset: number;
  limit: number;
  /** rows on the page now */
  shown: number;
  count: number;
  busy: boolean;
  onOffset: (offset: number) => void;
  /**
   * Where the focus goes on a page change (the list's heading, tabIndex -1): the button pressed
   * is disabled while the page loads, and for good on the first and last page, which would drop
   * the focus to the body; and on a phone the new page is read from its top.
   */
  top: RefObject<HTMLElement | null>;
  rangeTestId?: string;
}) {
  if (count <= limit) return null;
  const go = (next: number) => {
    onOffset(next);
    top.current?.focus();
  };
  return (
    <nav className="pager" aria-label="Pages">
      <button
        type="button"
        className="button"
        disabled={offset === 0 || busy}
        onClick={() => go(Math.max(0, offset - limit))}
      >
        Previous
      </button>
      <span className="muted" data-testid={rangeTestId}>
        {(offset + 1).toLocaleString()}–{Math.min(offset + shown, count).toLocaleString()} of {count.toLocaleString()}
      </span>
      <button
        type="button"
        className="button"
        disabled={offset + limit >= count || busy}
        onClick={() => go(offset + limit)}
      >
        Next
      </button>
    </nav>
  );
}
