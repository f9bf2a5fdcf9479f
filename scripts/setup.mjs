#!/usr/bin/env node
// `npm run setup`: install dependencies, find or build the Temporal CLI, create and migrate the database.
// With --if-needed (used by `npm start` and `npm test`) it skips the npm install when node_modules is current;
// with --no-database (`npm test`) it migrates no database.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ifNeeded = process.argv.includes('--if-needed');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const installed = existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs;
if (!ifNeeded || !installed) {
  // The lock file as committed: `npm ci` never rewrites it, so a fresh clone stays clean.
  console.log('[setup] installing npm dependencies from package-lock.json…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
// The dashboard, built from web/ whenever its sources are newer than the build (a fresh clone has none).
const { buildWeb, newest } = await import('./build-web.mjs');
const builtPage = join(root, 'dist', 'web', 'app.js');
if (!existsSync(builtPage) || statSync(builtPage).mtimeMs < newest(join(root, 'web'))) await buildWeb();
// The dashboard's browser tests drive Debian's Chromium through playwright-core (which downloads no browser).
if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
  const asRoot = process.getuid?.() === 0;
  if (asRoot && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0) {
    console.log('[setup] installing Debian\'s chromium for the dashboard tests…');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'chromium']);
  } else {
    console.log('[setup] no Chromium at /usr/bin/chromium: the dashboard tests need it (apt-get install chromium, or set CHROMIUM_PATH)');
  }
}
// Tests make and drop databases of their own: setup before them leaves every database alone.
const noDatabase = process.argv.includes('--no-database');
run(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'cli.ts'), 'setup', ...(noDatabase ? ['--no-database'] : [])]);
