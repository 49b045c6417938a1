import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The store staff console: static files served by the API server at /console (src/console.ts).
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
