import type { ChuteOptions } from '@chute/client';

/**
 * How the app reaches Chute: the same origin, authenticated by the HttpOnly session cookie.
 * VITE_CHUTE_BASE_URL can point a separately hosted build at another Chute origin.
 */
export const chute: ChuteOptions = {
  baseUrl: import.meta.env.VITE_CHUTE_BASE_URL ?? '',
  credentials: import.meta.env.VITE_CHUTE_BASE_URL ? 'include' : 'same-origin',
};
