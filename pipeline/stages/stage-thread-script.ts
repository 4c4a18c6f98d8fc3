import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * The script a stage thread runs: its TypeScript sources bundled into one ES module, or, when no
 * bundle can be had, the boot script that registers tsx in the thread.
 *
 * Why a bundle. A worker thread does not inherit the process's TypeScript loader; registering tsx
 * in it starts a loader thread of its own (Node 20 runs module hooks off-thread), a V8 isolate
 * that stays for the thread's life, and compiles every module again. Measured on this machine, a
 * pool of 2 stage threads, idle after their warm-up, 3 runs each: 226-233 MB RSS against 260-266
 * with tsx, 14 OS threads against 16, and ready in 1.41-1.44 s against 1.83-2.61 s.
 *
 * The bundle holds Shardline's own sources only; packages stay imports (`packages: 'external'`),
 * resolved from where the bundle lies: `node_modules/.cache/shardline/` of the installation, so
 * that they resolve as they do from the sources. It is built from the sources every time a process
 * starts its first stage thread (~0.1 s), so it is never older than they are, and kept in a folder
 * named by its content's hash, so that processes of different versions never load each other's. A read-only
 * installation (the container image, Lambda) holds the bundle its image build made (`Dockerfile`);
 * without one, the threads run the sources with tsx as before, and `fallbackReason` says why.
 */
export interface StageThreadScript {
  readonly url: URL;
  /** Set when the script is the tsx boot script: why no bundle is used. */
  readonly fallbackReason?: string;
}

const ENTRY = fileURLToPath(new URL('./stage-thread.ts', import.meta.url));
const SCRIPT = 'stage-thread.mjs';
const BOOT = new URL('./stage-thread-boot.mjs', import.meta.url);
/** Where bundles are kept: inside the installation, so that package imports resolve from there. */
export const DEFAULT_BUNDLE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/shardline/', import.meta.url),
);

/**
 * Each module keeps its own `import.meta.url` (and `dirname`, `filename`): the sources' file, not
 * the bundle's, so that what a module finds beside itself (a package it resolves, a file it reads)
 * it finds as it does under tsx.
 */
const ownModuleUrls: Plugin = {
  name: 'own-module-urls',
  setup(b) {
    b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const url = pathToFileURL(args.path).href;
      return {
        loader: 'ts',
        contents: source
          .replaceAll('import.meta.url', JSON.stringify(url))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
          .replaceAll('import.meta.filename', JSON.stringify(args.path)),
      };
    });
  },
};

/** The bundle and its source map: the same sources always give the same bytes. */
const bundle = async (dir: string): Promise<{ code: string; map: string }> => {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    // A map beside the bundle, read only when Node runs with --enable-source-maps: stack traces
    // then name the TypeScript sources. Enabled always, the maps cost ~3 MB a thread.
    sourcemap: 'linked',
    sourcesContent: false,
    // As deep as the folder it is kept in (`stage-thread-<hash>/`): the map's paths are relative.
    outfile: join(dir, 'stage-thread', SCRIPT),
    logLevel: 'silent',
    plugins: [ownModuleUrls],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (code === undefined || map === undefined) throw new Error('esbuild produced no bundle');
  return { code: code.text, map: map.text };
};

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Writes (or finds) the bundle of the stage thread's sources under `dir` and returns its URL;
 * falls back to the tsx boot script when it cannot (esbuild missing, `dir` neither holding the
 * bundle nor writable).
 */
export async function buildStageThreadScript(dir = DEFAULT_BUNDLE_DIR): Promise<StageThreadScript> {
  try {
    const { code, map } = await bundle(dir);
    const hash = createHash('sha256').update(code).update(map).digest('hex').slice(0, 16);
    const home = join(dir, `stage-thread-${hash}`);
    const script = join(home, SCRIPT);
    if (!(await exists(script))) {
      // Written aside, then renamed: a process starting at the same moment never loads half of it.
      const partial = `${home}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
      await mkdir(partial, { recursive: true });
      await writeFile(join(partial, `${SCRIPT}.map`), map);
      await writeFile(join(partial, SCRIPT), code);
      try {
        await rename(partial, home);
      } catch (error) {
        // Another process renamed its own copy first: the same bytes.
        await rm(partial, { recursive: true, force: true });
        if (!(await exists(script))) throw error;
      }
    }
    return { url: pathToFileURL(script) };
  } catch (error) {
    return {
      url: BOOT,
      fallbackReason: `no bundle of the stage thread's sources in ${dir} (${error instanceof Error ? error.message : String(error)}): its threads run the sources with tsx, each with a loader thread of its own (~20 MB more a thread)`,
    };
  }
}

let shared: Promise<StageThreadScript> | undefined;

/** `buildStageThreadScript()` once per process: every stage thread of it runs the same script. */
export const stageThreadScript = (): Promise<StageThreadScript> => {
  shared ??= buildStageThreadScript();
  return shared;
};
