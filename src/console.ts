import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Logger } from 'pino';

/*
 * The store staff console (console/): a Preact app built by Vite to console/dist and served here at /console.
 * `npm start` builds it when its sources are newer than the build (ensureConsoleBuilt), so the README's two
 * commands still do everything.
 */

const consoleDir = fileURLToPath(new URL('../console/', import.meta.url));
const dist = join(consoleDir, 'dist');

const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);

export function consoleIsStale(): boolean {
  const built = join(dist, 'index.html');
  if (!existsSync(built)) return true;
  const sources = Math.max(newest(join(consoleDir, 'src')), statSync(join(consoleDir, 'index.html')).mtimeMs, statSync(join(consoleDir, 'vite.config.ts')).mtimeMs);
  return sources > statSync(built).mtimeMs;
}

/** Builds the console when needed (Vite is a development dependency: without it, an existing build is used). */
export async function ensureConsoleBuilt(log: Pick<Logger, 'info' | 'warn'>): Promise<void> {
  if (!consoleIsStale()) return;
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    log.warn('the staff console is not built and Vite is not installed (npm ci installs it): /console is unavailable');
    return;
  }
  const started = performance.now();
  await vite.build({ configFile: join(consoleDir, 'vite.config.ts'), logLevel: 'warn' });
  log.info({ ms: Math.round(performance.now() - started) }, 'staff console built');
}

/** /console: the built files, and index.html for any other path under it (the app has one page). */
export function mountConsole(app: Hono) {
  const root = relative(process.cwd(), dist) || '.';
  const index = () => (existsSync(join(dist, 'index.html')) ? readFileSync(join(dist, 'index.html'), 'utf8') : null);
  app.get('/console', (c) => c.redirect('/console/'));
  app.use(
    '/console/*',
    serveStatic({
      root,
      rewriteRequestPath: (p) => p.replace(/^\/console/, ''),
      // The build writes .br and .gz beside each file (console/vite.config.ts); assets are named by their hash.
      precompressed: true,
      onFound: (path, c) => {
        if (path.includes('/assets/')) c.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
    }),
  );
  app.get('/console/*', (c) => {
    const html = index();
    return html ? c.html(html) : c.text('The staff console is not built: run npm start (it builds it) or npx vite build console.', 503);
  });
}
