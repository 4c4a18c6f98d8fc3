import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, matchesGlob, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from './dockerfile.ts';
import { freePort, runWorkerLifecycle } from './worker-lifecycle.ts';

/**
 * The image's install and start steps, without a Docker engine: the Dockerfile's default stage
 * is replayed in an empty temporary directory (its COPY lines, filtered by .dockerignore; the
 * `npm ci` of the stage it copies node_modules from), then its ENTRYPOINT + CMD start
 * `shardline consume` against a local Kinesis and DynamoDB, its HEALTHCHECK must pass, and
 * SIGTERM must release every lease with exit code 0.
 *
 * Cost: a production install from the npm registry (~10 s with a warm npm cache, up to a minute
 * cold). It runs when SHARDLINE_CONTAINER_TEST=1 (.ci/run sets it) and needs the registry.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const enabled = process.env.SHARDLINE_CONTAINER_TEST === '1';
const exec = promisify(execFile);

const dockerignore = async (): Promise<(path: string) => boolean> => {
  const patterns = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  return (path) => {
    let ignored = false;
    for (const p of patterns) {
      const negated = p.startsWith('!');
      const glob = negated ? p.slice(1) : p;
      if (matchesGlob(path, glob) || matchesGlob(path, `${glob}/**`)) ignored = !negated;
    }
    return ignored;
  };
};

describe.skipIf(!enabled)('container image steps (Dockerfile replayed without Docker)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-image-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('installs production dependencies only, starts, is healthy and hands its leases over on SIGTERM', async () => {
    // Prepare: the default (last) stage and the stage it copies node_modules from.
    const stages = parseDockerfile(join(ROOT, 'Dockerfile'));
    const image = stages[stages.length - 1]!;
    const app = join(dir, 'app');
    const ignored = await dockerignore();
    const copyFromContext = async (sources: readonly string[], dest: string) => {
      for (const source of sources) {
        const target = dest.endsWith('/') || sources.length > 1 ? join(app, dest, source) : join(app, dest);
        await cp(join(ROOT, source), target, {
          recursive: true,
          filter: (src) => !ignored(relative(ROOT, src)) || relative(ROOT, src) === '',
        });
      }
    };
    for (const copy of image.copies) {
      if (copy.from === undefined) {
        await copyFromContext(copy.sources, copy.dest);
        continue;
      }
      // A build stage: its own COPY lines, then its `npm ci` (nothing else of its RUN lines, e.g.
      // `npm cache clean`, which would empty this machine's cache).
      const stage = stages.find((s) => s.name === copy.from)!;
      expect(stage.workdir, 'both stages use the same WORKDIR').toBe(image.workdir);
      for (const c of stage.copies) await copyFromContext(c.sources, c.dest);
      for (const step of stage.runs.flatMap((r) => r.split('&&').map((s) => s.trim()))) {
        if (!step.startsWith('npm ci')) continue;
        const [, ...args] = step.split(/\s+/);
        await exec('npm', args, { cwd: app, maxBuffer: 16 * 1024 * 1024 });
      }
    }
    // The image's own build steps that run Node (the stage threads' bundle); not apt-get.
    for (const step of image.runs.flatMap((r) => r.split('&&').map((s) => s.trim()))) {
      if (!step.startsWith('node ')) continue;
      const [, ...args] = step.split(/\s+/);
      await exec(process.execPath, args, { cwd: app });
    }
    const port = await freePort();
    const withPort = (argv: readonly string[]) => argv.map((a) => a.replaceAll('9400', String(port)));
    // tini (`tini --`) is PID 1 in the image: here Node is started directly.
    const entrypoint = image.entrypoint ?? [];
    const node = entrypoint.indexOf('--') >= 0 ? entrypoint.slice(entrypoint.indexOf('--') + 1) : entrypoint;

    // Act
    const run = await runWorkerLifecycle({
      cwd: app,
      command: withPort([...node, ...(image.cmd ?? [])]),
      healthCheck: image.healthcheck ? withPort(image.healthcheck) : undefined,
      dir,
    });

    // Assess: the install holds no devDependency, and the worker behaved as in production.
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && p.dev === true)
      .map(([path]) => path);
    const present = await Promise.all(
      devOnly.map((p) =>
        stat(join(app, p)).then(
          () => p,
          () => undefined,
        ),
      ),
    );
    expect(present.filter(Boolean)).toEqual([]);
    expect(image.user).toBe('node');
    expect(image.stopSignal).toBe('SIGTERM');
    expect(
      run.ownersWhileRunning.every((o) => o !== undefined) && run.ownersWhileRunning.length === 2,
      run.stderr,
    ).toBe(true);
    expect(run.parquetFiles, run.stderr).toBeGreaterThan(0);
    expect(run.healthCheckCode, run.stderr).toBe(0);
    expect(run.exitCode, run.stderr).toBe(0);
    // It and its stage threads ran the bundles made at build time, not their sources through tsx.
    expect(run.stderr).not.toContain('no bundle of');
    const bundles = (await readdir(join(app, 'node_modules/.cache/shardline')))
      .filter((d) => !d.endsWith('.inputs.json'))
      .map((d) => d.replace(/-\w+$/, ''));
    expect(bundles.sort()).toEqual(['cli', 'stage-thread']);
    expect(await readdir(join(app, 'node_modules/.cache'))).toEqual(['shardline']);
    expect(run.ownersAfterExit).toEqual([undefined, undefined]);
  }, 300_000);
});
