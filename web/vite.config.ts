/**
 * Builds the console into dist/web (beside the compiled server in dist/, which serves it from
 * there). Nothing is inlined into index.html: the server's Content-Security-Policy allows
 * scripts and styles from its own origin only, so every script and stylesheet must be a file.
 */
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // the polyfill would be one more script; every browser the console supports has modulepreload
    modulePreload: { polyfill: false },
    // no data: URIs for assets: files only, cacheable by hash
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
