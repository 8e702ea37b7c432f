import { useCallback, useEffect, useState } from 'react';

/**
 * One page of a list from the API: fetched again whenever `load` changes or on reload(). The page
 * shown stays until the next one arrives, so the table dims instead of jumping; a fetch that is
 * overtaken is aborted and its error dropped. A list paged by cursor has no count (0 here).
 */
export function useListPage<T extends { results: unknown[]; count?: number }>(
  load: (signal: AbortSignal) => Promise<T>,
  fail: (caught: unknown) => string,
) {
  const [page, setPage] = useState<T | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: reloads changes on reload(), to fetch again
  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    load(controller.signal).then(
      (result) => {
        // a page asked for before the last change of sort, filter or offset never replaces a newer one
        if (controller.signal.aborted) return;
        setPage(result);
        setError(null);
        setLoading(false);
      },
      (caught) => {
        if (controller.signal.aborted) return;
        setError(fail(caught));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [load, reloads, fail]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  // until the first page arrives: no rows, and a count of 0
  const rows: T['results'] = page?.results ?? [];
  return { page, rows, count: page?.count ?? 0, loading, error, setError, reload };
}
