// Vite build of the web UI: web/ -> dist/web, served by tvirtd --web (src/api/web.ts).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web', // run from the repository root (npm run build:web)
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npx vite web` during development: the API of a tvirtd --web on the default port.
    proxy: { '/v1': { target: 'http://127.0.0.1:16580', ws: true }, '/login': 'http://127.0.0.1:16580' },
  },
});
