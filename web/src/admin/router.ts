import { useCallback, useEffect, useState, type MouseEvent } from 'react';

// The admin's own pages under /admin, on real paths. The app's router (../router.ts) shows the
// admin for any /admin path; this one tells which admin page, and listens to the same history.
export type AdminPage =
  | { page: 'files' }
  | { page: 'new' }
  | { page: 'file'; id: number }
  | { page: 'users' }
  | { page: 'webhooks' }
  | { page: 'missing' };

export const NAVIGATE_EVENT = 'chute:navigate';

export function pageOf(pathname: string): AdminPage {
  const path = pathname.replace(/\/+$/, '');
  if (path === '/admin' || path === '/admin/files') return { page: 'files' };
  if (path === '/admin/files/new') return { page: 'new' };
  if (path === '/admin/users') return { page: 'users' };
  if (path === '/admin/webhooks') return { page: 'webhooks' };
  const file = /^\/admin\/files\/([0-9]{1,15})$/.exec(path);
  if (file) return { page: 'file', id: Number(file[1]) };
  return { page: 'missing' };
}

export const adminPath = {
  files: (search = '') => `/admin/files${search ? `?${search}` : ''}`,
  newFile: () => '/admin/files/new',
  file: (id: number) => `/admin/files/${id}`,
  users: () => '/admin/users',
  webhooks: () => '/admin/webhooks',
};

/** Goes to an admin URL (path and query) as a link would, without reloading. */
export function adminNavigate(url: string, { replace = false }: { replace?: boolean } = {}): void {
  if (url !== location.pathname + location.search) {
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
  }
  dispatchEvent(new Event(NAVIGATE_EVENT));
}

const readLocation = () => ({
  page: pageOf(location.pathname),
  search: location.search,
  key: location.pathname + location.search,
});

/** The current admin page and query string; follows back/forward and adminNavigate. */
export function useAdminLocation(): { page: AdminPage; search: string } {
  const [current, setCurrent] = useState(readLocation);
  useEffect(() => {
    const update = () =>
      setCurrent((previous) => (previous.key === location.pathname + location.search ? previous : readLocation()));
    addEventListener('popstate', update);
    addEventListener(NAVIGATE_EVENT, update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener(NAVIGATE_EVENT, update);
    };
  }, []);
  return { page: current.page, search: current.search };
}

/** A link that navigates inside the app (a modified click opens a new tab as usual). */
export function useLinkHandler(): (event: MouseEvent<HTMLAnchorElement>) => void {
  return useCallback((event: MouseEvent<HTMLAnchorElement>) => {
    if (
      event.defaultPrevented ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey ||
      event.button !== 0
    )
      return;
    event.preventDefault();
    const target = new URL(event.currentTarget.href);
    adminNavigate(target.pathname + target.search);
    requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }));
  }, []);
}

let flashMessage: string | null = null;
/** A message for the next page to show (e.g. "deleted", after leaving a page that no longer exists). */
export const flash = {
  set: (message: string) => void (flashMessage = message),
  take: (): string | null => {
    const message = flashMessage;
    flashMessage = null;
    return message;
  },
};
