// npm run build: the CLI as one JavaScript file for plain `node` (dist/cli.js; packages stay in
// node_modules) and the Temporal workflow bundle, built once here instead of at every worker start.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { build } from 'esbuild';
import { buildWeb } from './build-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outfile: join(dist, 'cli.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

const { code } = await bundleWorkflowCode({
  workflowsPath: join(root, 'src/workflows/index.ts'),
  logger: { trace() {}, debug() {}, info() {}, warn: (m) => console.warn(m), error: (m) => console.error(m), log() {} },
});
writeFileSync(join(dist, 'workflow-bundle.js'), code);
console.log(`[mts] built dist/cli.js and dist/workflow-bundle.js (${(code.length / 1024).toFixed(0)} KiB)`);
await buildWeb();
