// Compiles the server (src/, seed/) to one ES module, dist/main.js, that plain `node` runs: no TypeScript
// loader in production (tsx costs ~150 MB of memory across its two processes). Dependencies stay in
// node_modules. Takes well under a second, so `npm start` runs it every time.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: 'dist/main.js',
  sourcemap: true,
  logLevel: 'warning',
});
