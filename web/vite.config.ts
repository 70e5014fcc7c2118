/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const backend = 'http://127.0.0.1:8000';
/** Absolute path of a file next to this config (no @types/node here, so no node:url). */
const here = (p: string) => decodeURIComponent(new URL(p, import.meta.url).pathname);

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: '../src/connect/static',
    emptyOutDir: true,
    rolldownOptions: {
      // Multi-page: the visitor app (/) and the moderation dashboard (/admin/ → admin/index.html).
      input: {
        main: here('./index.html'),
        admin: here('./admin/index.html'),
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/health': { target: backend, changeOrigin: true },
      '/ws': { target: backend, ws: true, changeOrigin: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
