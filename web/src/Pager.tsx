/** Previous / "first–last of count" / Next, for a list shown a page of `limit` at a time. */
export function Pager({
  offset,
  limit,
  shown,
  count,
  busy,
  onOffset,
  rangeTestId,
}: {
  offset: number;
  limit: number;
  /** rows on the page now */
  shown: number;
  count: number;
  busy: boolean;
  onOffset: (offset: number) => void;
  rangeTestId?: string;
}) {
  if (count <= limit) return null;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="button" disabled={offset === 0 || busy} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span className="muted" data-testid={rangeTestId}>
        {(offset + 1).toLocaleString()}–{Math.min(offset + shown, count).toLocaleString()} of {count.toLocaleString()}
      </span>
      <button type="button" className="button" disabled={offset + limit >= count || busy} onClick={() => onOffset(offset + limit)}>
        Next
      </button>
    </nav>
  );
}
