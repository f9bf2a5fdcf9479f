import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromRoot } from '../../src/paths';
import { sourcesDigest, sourceWorkflowBundle } from '../../src/workers/workflow-bundle';

const temporary: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
};
afterAll(() => { for (const dir of temporary) rmSync(dir, { recursive: true, force: true }); });

describe('the sources\' workflow bundle, kept between processes', () => {
  it('is keyed by every file under src/ and the lockfile', () => {
    const root = tempDir('mts-digest-');
    mkdirSync(join(root, 'src', 'workflows'), { recursive: true });
    writeFileSync(join(root, 'src', 'workflows', 'index.ts'), 'export const a = 1;\n');
    writeFileSync(join(root, 'src', 'paths.ts'), 'export const b = 2;\n');
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}');
    const digests = new Set<string>();
    const digest = () => {
      const d = sourcesDigest(root);
      expect(sourcesDigest(root)).toBe(d);
      digests.add(d);
      return d;
    };
    const first = digest();
    writeFileSync(join(root, 'src', 'paths.ts'), 'export const b = 3;\n');
    digest();
    // Renamed, with the files in the same order: the names count, not only the contents.
    renameSync(join(root, 'src', 'paths.ts'), join(root, 'src', 'prices.ts'));
    digest();
    writeFileSync(join(root, 'src', 'workflows', 'types.ts'), '');
    digest();
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}');
    digest();
    // Every change above gave a digest of its own; putting everything back gives the first again.
    expect(digests.size).toBe(5);
    rmSync(join(root, 'src', 'workflows', 'types.ts'));
    renameSync(join(root, 'src', 'prices.ts'), join(root, 'src', 'paths.ts'));
    writeFileSync(join(root, 'src', 'paths.ts'), 'export const b = 2;\n');
    writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion":3}');
    expect(sourcesDigest(root)).toBe(first);
    // The project's own sources: the digest the cache names its bundle by.
    const project = tempDir('mts-project-');
    cpSync(fromRoot('src'), join(project, 'src'), { recursive: true });
    cpSync(fromRoot('package-lock.json'), join(project, 'package-lock.json'));
    expect(sourcesDigest(project)).toBe(sourcesDigest());
  });

  it('is bundled once, read back by the next process, and replaces bundles of earlier sources', async () => {
    const cache = tempDir('mts-bundle-cache-');
    writeFileSync(join(cache, 'workflow-bundle-0123456789abcdef0123456789abcdef.js'), 'earlier sources');
    writeFileSync(join(cache, 'workflow-bundle-0123456789abcdef0123456789abcdef.js.4242.partial'), 'a write cut short');
    writeFileSync(join(cache, 'unrelated.txt'), 'kept');
    const bundled = await sourceWorkflowBundle(cache);
    expect(bundled.code).toContain('riskAndExecuteWorkflow');
    const file = `workflow-bundle-${sourcesDigest()}.js`;
    expect(readdirSync(cache).sort()).toEqual(['unrelated.txt', file]);
    expect(readFileSync(join(cache, file), 'utf8')).toBe(bundled.code);
    // What is cached is what a process gets: no bundling while the sources stay as they are.
    writeFileSync(join(cache, file), 'the cached bundle');
    expect((await sourceWorkflowBundle(cache)).code).toBe('the cached bundle');
  });

  it('still bundles where the cache cannot be written', async () => {
    const blocked = join(tempDir('mts-bundle-blocked-'), 'cache');
    // A file where the cache folder would be: nothing can be written under it.
    writeFileSync(blocked, '');
    expect((await sourceWorkflowBundle(blocked)).code).toContain('riskAndExecuteWorkflow');
  });
});
