import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from './esm-bundle.mjs';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'esm-bundle-'));
  // Sources: an entry, a module beside it in a folder of its own, and a dynamically imported module
  // that imports a file this installation leaves out (as the image leaves out fluent-bit/).
  await mkdir(join(dir, 'src', 'lib'), { recursive: true });
  await writeFile(
    join(dir, 'src', 'entry.ts'),
    [
      "import { libUrl, libDir } from './lib/lib.ts';",
      'export const entryUrl: string = import.meta.url;',
      'export { libUrl, libDir };',
      "export const later = () => import('./later.ts');",
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'src', 'lib', 'lib.ts'),
    'export const libUrl: string = import.meta.url;\nexport const libDir: string = import.meta.dirname;\n',
  );
  await writeFile(join(dir, 'src', 'later.ts'), "export { absent } from './not-installed.ts';\n");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleEntry', () => {
  it("keeps each module's own import.meta, and loads what only a dynamic import needs when it is reached", async () => {
    // Act
    const bundled = await bundleEntry(join(dir, 'src', 'entry.ts'), {
      name: 'probe',
      dir: join(dir, 'cache'),
    });
    const mod = (await import(bundled.url!.href)) as {
      entryUrl: string;
      libUrl: string;
      libDir: string;
      later: () => Promise<unknown>;
    };

    // Assess: the sources' locations, not the bundle's.
    expect(bundled.fallbackReason).toBeUndefined();
    expect(mod.entryUrl).toBe(pathToFileURL(join(dir, 'src', 'entry.ts')).href);
    expect(mod.libUrl).toBe(pathToFileURL(join(dir, 'src', 'lib', 'lib.ts')).href);
    expect(mod.libDir).toBe(join(dir, 'src', 'lib'));
    // The bundle loaded although later.ts imports a file that is not there; reaching it fails.
    await expect(mod.later()).rejects.toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    // One folder, named by the bundle's hash (its entry, a chunk for the dynamic import, maps),
    // and what it was made from.
    const [home, manifest, ...others] = (await readdir(join(dir, 'cache'))).sort();
    expect(others).toEqual([]);
    expect(home).toMatch(/^probe-[0-9a-f]{16}$/);
    expect(manifest).toBe('probe.inputs.json');
    const files = await readdir(join(dir, 'cache', home!));
    expect(files).toContain('probe.mjs');
    expect(files).toContain('probe.mjs.map');
    expect(files.filter((f) => /^chunk-\w+\.mjs$/.test(f))).toHaveLength(1);
  });

  it('uses the bundle it made while its sources are unchanged, without bundling again, and makes a new one when one changes', async () => {
    // Arrange
    const cache = join(dir, 'cache-2');
    const entry = join(dir, 'src', 'entry.ts');
    const first = await bundleEntry(entry, { name: 'probe', dir: cache });
    const manifest = join(cache, 'probe.inputs.json');
    const written = (await stat(manifest)).mtimeMs;

    // Act
    const again = await bundleEntry(entry, { name: 'probe', dir: cache });
    const writtenAgain = (await stat(manifest)).mtimeMs;
    await writeFile(
      join(dir, 'src', 'lib', 'lib.ts'),
      'export const libUrl = "changed";\nexport const libDir = "";\n',
    );
    const changed = await bundleEntry(entry, { name: 'probe', dir: cache });
    const mod = (await import(changed.url!.href)) as { libUrl: string };

    // Assess: the same bundle, its manifest not rewritten; then a new bundle of the new source.
    expect(again.url!.href).toBe(first.url!.href);
    expect(writtenAgain).toBe(written);
    expect(changed.url!.href).not.toBe(first.url!.href);
    expect(mod.libUrl).toBe('changed');
  });

  it('loads CommonJS packages with require and ES module packages with import, giving each import what Node gives it', async () => {
    // Arrange: bundles of this installation resolve its packages from where they lie, in it.
    const cache = await mkdtemp(
      fileURLToPath(new URL('../../node_modules/.cache/esm-bundle-test-', import.meta.url)),
    );
    const entry = join(dir, 'src', 'packages.ts');
    await writeFile(
      entry,
      [
        "import snappy, { compress } from 'snappyjs';",
        "import duckdb from '@duckdb/node-bindings';",
        "import duckdbApi from '@duckdb/node-api';",
        "import { z } from 'zod';",
        'export { snappy, compress, duckdb, duckdbApi, z };',
      ].join('\n'),
    );
    try {
      // Act
      const bundled = await bundleEntry(entry, { name: 'packages', dir: cache });
      const mod = (await import(bundled.url!.href)) as Record<string, unknown>;
      const text = await readFile(bundled.url!, 'utf8');

      // Assess: the very objects Node's own imports give (one module cache), CommonJS packages
      // required (snappyjs and DuckDB's bindings are CommonJS), zod (an ES module) imported.
      expect(bundled.fallbackReason).toBeUndefined();
      const snappy = await import('snappyjs');
      expect(mod.snappy).toBe(snappy.default);
      expect(mod.compress).toBe(snappy.compress);
      expect(mod.duckdb).toBe((await import('@duckdb/node-bindings')).default);
      // A CommonJS module marked `__esModule` (TypeScript's output): Node's default is still its
      // whole module.exports, not its `default` property.
      const duckdbApi = await import('@duckdb/node-api');
      expect(mod.duckdbApi).toBe(duckdbApi.default);
      expect((mod.duckdbApi as Record<string, unknown>).DuckDBInstance).toBe(duckdbApi.DuckDBInstance);
      expect(mod.z).toBe((await import('zod')).z);
      expect(text).toContain('__shardlineRequire("snappyjs")');
      expect(text).toContain('__shardlineRequire("@duckdb/node-bindings")');
      expect(text).not.toMatch(/from\s*"(snappyjs|@duckdb\/node-bindings)"/);
      expect(text).toMatch(/from\s*"zod"/);
      // The manifest lists source files only: a start after this one uses the same bundle.
      expect((await bundleEntry(entry, { name: 'packages', dir: cache })).url!.href).toBe(bundled.url!.href);
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });
});
