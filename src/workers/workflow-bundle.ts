import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { fromRoot, PROJECT_ROOT } from '../paths';
import { workflowsPath } from './pipeline';

/** Where bundles of the sources are kept between processes: a tool cache, beside the installed packages. */
export const WORKFLOW_BUNDLE_CACHE = fromRoot('node_modules', '.cache', 'mts');

/** A digest of every file under `root`'s src/ (paths and contents) and its lockfile: what a bundle of the sources is made from. */
export function sourcesDigest(root = PROJECT_ROOT): string {
  const hash = createHash('sha256');
  const src = join(root, 'src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(src, f)).isFile()).sort();
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(src, file))).update('\0');
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 32);
}

/**
 * The workflow bundle of the sources (a process run with tsx: `npm start`, `mts worker` from a clone,
 * the tests), kept between processes. webpack takes ~1.4 s (~1.9 s of CPU) to bundle src/workflows,
 * which every worker process and every workflow test file paid; the bundle is reused while no file
 * under src/ and no installed package (the lockfile) has changed, and any change bundles again. A
 * cache that cannot be written (a read-only install) only costs the bundling. The built CLI has its
 * bundle from `npm run build` (dist/workflow-bundle.js) and does not come here.
 */
export async function sourceWorkflowBundle(cache = WORKFLOW_BUNDLE_CACHE): Promise<WorkflowBundle> {
  const file = join(cache, `workflow-bundle-${sourcesDigest()}.js`);
  try {
    return { code: readFileSync(file, 'utf8') };
  } catch {
    // Not bundled for these sources yet.
  }
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m), log() {} } });
  try {
    mkdirSync(cache, { recursive: true });
    // Written whole under another name first: a process starting meanwhile reads the old bundle or none.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, file);
    // Bundles of earlier sources are not read again (nor what a process killed while writing left).
    for (const old of readdirSync(cache)) {
      if (old.startsWith('workflow-bundle-') && join(cache, old) !== file) rmSync(join(cache, old), { force: true });
    }
  } catch {
    // A read-only install: bundled again next time.
  }
  return { code };
}
