import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import preact from '@preact/preset-vite';

/** Writes .br and .gz beside each text file of the build: the server sends them as they are (src/console.ts). */
const precompress = (): Plugin => ({
  name: 'unichannel-precompress',
  apply: 'build',
  closeBundle() {
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    for (const file of walk(join(import.meta.dirname, 'dist')).filter((f) => /\.(js|css|html|svg|json)$/.test(f))) {
      const body = readFileSync(file);
      writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
    }
  },
});

// The store staff console: static files served by the API server at /console (src/console.ts).
export default defineConfig({
  root: import.meta.dirname,
  base: '/console/',
  plugins: [preact(), precompress()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
