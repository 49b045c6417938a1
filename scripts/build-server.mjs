// Compiles the server (src/, seed/) to one ES module, dist/main.js, that plain `node` runs: no TypeScript
// loader in production (tsx costs ~150 MB of memory across its two processes). Dependencies stay in
// node_modules. Takes well under a second, so `npm start` runs it every time.
// `node scripts/build-server.mjs <entry> <outfile>` builds another entry the same way: the benchmarks' app
// server (bench/lib/app-server.ts builds bench/server.ts to dist/bench-server.js, next to dist/main.js so that
// paths resolved from import.meta.url, like the migrations folder, are the same).
import { build } from 'esbuild';

const [entry = 'src/main.ts', outfile = 'dist/main.js'] = process.argv.slice(2);
await build({
  entryPoints: [entry],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile,
  sourcemap: true,
  logLevel: 'warning',
});
