// The dashboard: web/src (Preact, lightweight-charts) bundled by esbuild into dist/web with its page and
// stylesheet; the API serves it at /. Run by setup when web/ changed since the last build, and by `npm run build`.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');
const out = join(root, 'dist', 'web');

/** The newest modification time under a directory. */
export function newest(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const path = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }, 0);
}

export async function buildWeb() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(web, 'src', 'main.tsx')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(join(web, 'index.html'), join(out, 'index.html'));
  copyFileSync(join(web, 'app.css'), join(out, 'app.css'));
  const gz = gzipSync(readFileSync(join(out, 'app.js'))).length;
  console.log(`[mts] built the dashboard: dist/web/app.js ${(gz / 1024).toFixed(0)} KiB gzipped`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWeb();
