/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { isEmojibaseData, slimEmojibase } from './src/contacts/emoji/slim';

const backend = 'http://127.0.0.1:8000';
/** Absolute path of a file next to this config (no @types/node here, so no node:url). */
const here = (p: string) => decodeURIComponent(new URL(p, import.meta.url).pathname);

export default defineConfig({
  plugins: [
    react(),
    // The reaction picker's emoji data (emojibase, lazily loaded): only the fields it reads.
    {
      name: 'connect-slim-emojibase',
      enforce: 'pre',
      transform(code: string, id: string) {
        return isEmojibaseData(id) ? { code: JSON.stringify(slimEmojibase(JSON.parse(code))), map: null } : null;
      },
    },
  ],
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
