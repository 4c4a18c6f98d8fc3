// Shardline's TypeScript sources bundled into one ES module per entry point, for the processes and
// threads that run them: the CLI (consumers/cli/bin.cjs), the Lambda handler
// (consumers/lambda/index.mjs) and the stage threads (pipeline/stages/stage-thread-script.ts).
//
// Why. tsx runs TypeScript through Node's module hooks, which Node 20 runs on a loader thread of
// their own: a V8 isolate beside every process or worker thread that registers them, kept for its
// life, which also compiles every module again. Measured on a 2-core machine (README, "A worker in
// 512 MB"): ~20 MB RSS per stage thread and ~33 MB for the process's own.
//
// How. esbuild bundles the entry's own modules; packages stay outside it (`packages: 'external'`):
// ES module packages imported, CommonJS ones required (`commonJsPackagesRequired`), both resolved
// from where the bundle lies, `node_modules/.cache/shardline/` of the installation, so that they
// resolve as from the sources. Each module keeps its own `import.meta.url` (the source
// file's), so what it finds beside itself it finds as under tsx. A bundle is kept in a folder named
// by its content's hash, which processes of different versions never share, with the list of the
// sources it was made from: it is made again when one of them changed, so it is never older than
// they are. Its source map lies beside it, read
// when Node runs with --enable-source-maps. A read-only installation (the container image, Lambda)
// holds the bundles its build made (`node pipeline/bundle/prebuild.mjs`); without them, callers run
// the sources with tsx as before, and `fallbackReason` says why.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where bundles are kept: inside the installation, so that package imports resolve from there. */
export const DEFAULT_BUNDLE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/shardline/', import.meta.url),
);

/** @type {import('esbuild').Plugin} */
const ownModuleUrls = {
  name: 'own-module-urls',
  setup(build) {
    // A module the installation leaves out (the container image has no fluent-bit/, which only the
    // dev command imports) stays an import of its file, failing only if reached, as under tsx.
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const path = resolve(args.resolveDir, args.path);
      return existsSync(path) ? undefined : { path: pathToFileURL(path).href, external: true };
    });
    build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const own = {
        url: pathToFileURL(args.path).href,
        dirname: dirname(args.path),
        filename: args.path,
      };
      return {
        loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js',
        // A pattern, not the words themselves: this file is bundled too, and must keep its own.
        contents: source.replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, key) =>
          JSON.stringify(own[key]),
        ),
      };
    });
  },
};

/**
 * The nearest package.json's `type` above a file: whether Node reads its `.js` files as CommonJS.
 *
 * @param {string} file
 * @returns {boolean}
 */
const isCommonJsFile = (file) => {
  if (file.endsWith('.cjs')) return true;
  if (!file.endsWith('.js')) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type !== 'module';
    if (dirname(dir) === dir) return true;
  }
};

const require = createRequire(import.meta.url);

/** Conditions Node 20's ES module loader resolves a package's `exports` with. */
const IMPORT_CONDITIONS = new Set(['node', 'import', 'node-addons', 'default']);

/**
 * The target an `exports` entry gives under `IMPORT_CONDITIONS` (the first matching key, in the
 * entry's order; the first target of an array that gives one), or undefined.
 *
 * @param {unknown} target
 * @returns {string | undefined}
 */
const exportTarget = (target) => {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = exportTarget(t);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (target === null || typeof target !== 'object') return undefined;
  for (const [key, value] of Object.entries(target)) {
    if (!IMPORT_CONDITIONS.has(key)) continue;
    const found = exportTarget(value);
    if (found !== undefined) return found;
  }
  return undefined;
};

/**
 * The file an `import` of the bare specifier `spec` loads, as Node's ES module loader resolves it
 * from this installation (where the bundles lie): the package's `exports` under the import
 * conditions, or its `main`. Undefined for what it does not follow (subpath patterns, a package
 * not found): those stay imports.
 *
 * @param {string} spec
 * @returns {string | undefined}
 */
const importedFile = (spec) => {
  const parts = spec.split('/');
  const nameLength = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const home = join(dir, 'node_modules', name);
    const manifestFile = join(home, 'package.json');
    if (existsSync(manifestFile)) {
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
      const exported = manifest.exports;
      if (exported !== undefined && exported !== null) {
        const bySubpath =
          typeof exported === 'object' &&
          !Array.isArray(exported) &&
          Object.keys(exported).some((k) => k.startsWith('.'))
            ? exported
            : { '.': exported };
        const target = exportTarget(bySubpath[subpath]);
        return target === undefined ? undefined : join(home, target);
      }
      if (subpath !== '.') return join(home, subpath);
      const main = join(home, typeof manifest.main === 'string' ? manifest.main : 'index.js');
      return [main, `${main}.js`, join(main, 'index.js')].find((file) =>
        statSync(file, { throwIfNoEntry: false })?.isFile(),
      );
    }
    if (dirname(dir) === dir) return undefined;
  }
};

/** @type {Map<string, boolean>} */
const commonJsPackages = new Map();

/**
 * Whether Node's ES module loader would load the package `spec` as CommonJS, the ones it runs
 * cjs-module-lexer on. (Not `import.meta.resolve`: where this file runs under vitest it has none.)
 *
 * @param {string} spec
 * @returns {boolean}
 */
const loadsAsCommonJs = (spec) => {
  let known = commonJsPackages.get(spec);
  if (known === undefined) {
    try {
      const file = importedFile(spec);
      known = file !== undefined && isCommonJsFile(file);
    } catch {
      known = false; // left to Node, which fails as it would have without the bundle
    }
    commonJsPackages.set(spec, known);
  }
  return known;
};

/**
 * The bundle's own URL, in its banner. Spelled in parts: this file is bundled too, and
 * `ownModuleUrls` would put its source's URL in place of the words.
 */
const BUNDLE_URL = ['import', 'meta', 'url'].join('.');

/** The name a bundle's `require` goes by (see `commonJsPackagesRequired`). */
const REQUIRE = '__shardlineRequire';

/**
 * CommonJS packages imported statically are loaded with `require` instead of `import`. Node
 * reads the source of every CommonJS module an ES module imports with cjs-module-lexer, to find
 * its export names, before it runs it: the AWS SDK's clients are a few hundred KB each, read by
 * the event loop and each thread that imports them, and the lexer, once hot, is compiled again
 * by V8's optimiser in each of them. `shardline --help`, 2026-12-02: the lexer ~75 ms of ~570 ms
 * on the event loop; the compiler threads ~55 ms an isolate more (`--trace-opt`: `parseSource`
 * compiled 12 times in one `npm start -- --demo-events 20000 --exit`).
 * What an import gets is the same: the package's `module.exports` as its default export and its
 * properties as the named ones (esbuild's interop in Node mode).
 */
const commonJsPackagesRequired = {
  name: 'common-js-packages-required',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind !== 'import-statement' || args.path.startsWith('node:') || isBuiltin(args.path))
        return undefined;
      return loadsAsCommonJs(args.path) ? { path: args.path, namespace: 'common-js-package' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'common-js-package' }, (args) => ({
      contents: `module.exports = ${REQUIRE}(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/** Where a file or folder is written before it is renamed to `path`: unique to this call. */
const asideOf = (path) => `${path}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;

const exists = (path) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * What a bundle was made from (`<name>.inputs.json` beside it): the entry, esbuild's version, and
 * each source file's size and modification time. While they all hold, a process uses that bundle
 * without running esbuild (~0.1-0.3 s a start; a Lambda cold start among them).
 *
 * @param {string} file
 * @param {string} entry
 * @param {string} version
 * @returns {Promise<string | undefined>} the bundle's path, when still current
 */
const currentBundle = async (file, entry, version) => {
  try {
    const manifest = JSON.parse(await readFile(file, 'utf8'));
    if (manifest.entry !== entry || manifest.esbuild !== version) return undefined;
    for (const [path, size, mtimeMs] of manifest.inputs) {
      const s = await stat(path);
      if (s.size !== size || s.mtimeMs !== mtimeMs) return undefined;
    }
    return (await exists(manifest.bundle)) ? manifest.bundle : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The bundle of `entry` (a TypeScript file's path), written under `dir` unless there already;
 * `{ url }` to import, or `{ fallbackReason }` when there is none (esbuild missing, `dir` neither
 * holding the bundle nor writable).
 *
 * @param {string} entry
 * @param {{ name: string, dir?: string }} options
 * @returns {Promise<{ url: URL, fallbackReason?: undefined } | { url?: undefined, fallbackReason: string }>}
 */
export async function bundleEntry(entry, { name, dir = DEFAULT_BUNDLE_DIR }) {
  const script = `${name}.mjs`;
  const manifestFile = join(dir, `${name}.inputs.json`);
  try {
    // esbuild's version from its package.json: importing esbuild itself only to compare versions
    // cost every start ~30 ms (Node reads a CommonJS package's source for its exports first).
    const version = JSON.parse(await readFile(require.resolve('esbuild/package.json'), 'utf8')).version;
    const current = await currentBundle(manifestFile, entry, version);
    if (current !== undefined) return { url: pathToFileURL(current) };
    const { build } = await import('esbuild');
    // As deep as the folder it is kept in (`<name>-<hash>/`): the maps' paths are relative.
    const outdir = join(dir, name);
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      // A dynamic import() is a chunk of its own, loaded when reached, as under tsx: the CLI loads
      // the dev command (and what only it imports, absent from the image) only for `dev`.
      splitting: true,
      outdir,
      entryNames: name,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      write: false,
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [ownModuleUrls, commonJsPackagesRequired],
      // Every file of the bundle (chunks too) has the `require` its CommonJS packages are loaded
      // with, resolving from where the bundle lies, as its imports do.
      banner: {
        js: `import { createRequire as __shardlineCreateRequire } from 'node:module';\nconst ${REQUIRE} = __shardlineCreateRequire(${BUNDLE_URL});`,
      },
      metafile: true,
    });
    const files = result.outputFiles.map((f) => ({ name: relative(outdir, f.path), text: f.text }));
    if (!files.some((f) => f.name === script)) throw new Error('esbuild produced no bundle');
    const hash = createHash('sha256');
    for (const f of files) hash.update(f.name).update('\0').update(f.text).update('\0');
    const home = join(dir, `${name}-${hash.digest('hex').slice(0, 16)}`);
    const path = join(home, script);
    if (!(await exists(path))) {
      // Written aside, then renamed: a process starting at the same moment never loads half of it.
      const partial = asideOf(home);
      await mkdir(partial, { recursive: true });
      // The entry last: a folder holding it holds everything.
      for (const f of files.sort((a, b) => Number(a.name === script) - Number(b.name === script)))
        await writeFile(join(partial, f.name), f.text);
      try {
        await rename(partial, home);
      } catch (error) {
        // Another process renamed its own copy first: the same bytes.
        await rm(partial, { recursive: true, force: true });
        if (!(await exists(path))) throw error;
      }
    }
    // Inputs stated after the build: a file edited meanwhile makes the next start build again.
    const inputs = [];
    // This file too: a change to how bundles are made makes them again.
    const sources = Object.keys(result.metafile.inputs).filter(
      (input) => !input.startsWith('common-js-package:'),
    );
    for (const input of [...sources, fileURLToPath(import.meta.url)]) {
      const file = resolve(input);
      const s = await stat(file);
      inputs.push([file, s.size, s.mtimeMs]);
    }
    const manifest = JSON.stringify({ entry, esbuild: version, bundle: path, inputs });
    const partialManifest = asideOf(manifestFile);
    await writeFile(partialManifest, manifest);
    await rename(partialManifest, manifestFile);
    return { url: pathToFileURL(path) };
  } catch (error) {
    return {
      fallbackReason: `no bundle of ${basename(entry)} in ${dir} (${error instanceof Error ? error.message : String(error)}): its sources run with tsx, whose loader thread costs ~20-30 MB more`,
    };
  }
}

/**
 * Imports `entry` bundled, or, when there is no bundle, registers tsx and imports the sources,
 * after writing why on stderr as a warning log line (as pipeline/observability/logger.ts writes).
 *
 * @param {string} entry
 * @param {string} name
 */
export async function importBundled(entry, name) {
  const bundled = await bundleEntry(entry, { name });
  if (bundled.url !== undefined) return import(bundled.url.href);
  const level = process.env.SHARDLINE_LOG_LEVEL;
  if (level !== 'error' && level !== 'silent')
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: bundled.fallbackReason })}\n`,
    );
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(entry).href);
}
