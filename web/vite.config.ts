import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a running Chute server (CHUTE_SERVER, default
// http://127.0.0.1:8000). Start that server with APP_DOMAIN=http://localhost:5173 so the local
// upload URLs and the CSRF origin check match the dev page's origin.
const server = process.env.CHUTE_SERVER ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  experimental: {
    // What the app's code loads by itself (the admin's chunk and stylesheet) comes from beside the
    // script that asks: from a CDN when index.html points there (STATIC_URL). The checksum worker
    // keeps its absolute path: a worker starts from the page's own origin only.
    renderBuiltUrl(filename, { hostType }) {
      return hostType === 'js' && !filename.includes('.worker') ? { relative: true } : undefined;
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      '/api': { target: server },
      '/media': { target: server },
    },
  },
});
