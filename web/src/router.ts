import { useCallback, useEffect, useState } from 'react';

export type Route = 'upload' | 'files' | 'admin';

const routeOf = (pathname: string): Route => {
  const path = pathname.replace(/\/+$/, '');
  return path === '/files' ? 'files' : path === '/admin' || path.startsWith('/admin/') ? 'admin' : 'upload';
};
export const pathOf = (route: Route) => (route === 'files' ? '/files' : route === 'admin' ? '/admin' : '/');

/** Two pages on real paths (the server answers any non-API path with the app). */
export function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState(() => routeOf(location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(routeOf(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((next: Route) => {
    if (location.pathname !== pathOf(next)) history.pushState(null, '', pathOf(next));
    setRoute(next);
    // the admin's own pages (admin/router.ts) follow the URL too
    dispatchEvent(new Event('chute:navigate'));
    // like a page load: screen readers and keyboards start at the new page's content
    requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: true }));
  }, []);
  return [route, navigate];
}
