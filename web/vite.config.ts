import { defineConfig } from 'vitest/config';
import preact from '@preact/preset-vite';

// `base: './'` keeps every asset URL relative, so the same dist/ works at the
// site root on CloudFront and under the local stack without rewriting.
export default defineConfig({
  base: './',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
