import { mkdtemp, readdir, readFile, readFile as readFileAsync, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineConfig } from '../config.ts';
import { buildStageThreadScript } from './stage-thread-script.ts';
import { ThreadStages } from './thread-stages.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stage-thread-script-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** OS threads of this process (Linux). */
const osThreads = async (): Promise<number> =>
  Number(/Threads:\s+(\d+)/.exec(await readFileAsync('/proc/self/status', 'utf8'))?.[1]);

describe('the stage thread script', () => {
  it('is one ES module of the sources, with no TypeScript loader, kept under a folder named by its content', async () => {
    // Act: two processes starting at once, then a later one.
    const into = join(dir, 'cache');
    const [a, b] = await Promise.all([buildStageThreadScript(into), buildStageThreadScript(into)]);
    const later = await buildStageThreadScript(into);

    // Assess
    expect(a.fallbackReason).toBeUndefined();
    expect(b.url.href).toBe(a.url.href);
    expect(later.url.href).toBe(a.url.href);
    const path = fileURLToPath(a.url);
    expect(path.startsWith(join(into, 'stage-thread-'))).toBe(true);
    const code = await readFile(path, 'utf8');
    // Shardline's modules are inside; packages stay outside (ES modules imported, CommonJS ones
    // required, esm-bundle.mjs); nothing registers tsx.
    expect(code).toContain('// pipeline/stages/record-stage.ts');
    expect(code).toMatch(/from\s*"zod"/);
    expect(code).toContain('__shardlineRequire("@duckdb/node-api")');
    expect(code).not.toMatch(/\btsx\b/);
    expect(code.trimEnd().endsWith('//# sourceMappingURL=stage-thread.mjs.map')).toBe(true);
    // One folder and the list of what it was made from; no half-written copy left by the race.
    expect((await readdir(into)).sort()).toEqual([path.split('/').at(-2), 'stage-thread.inputs.json']);
  });

  it('falls back to running the sources with tsx, and says why, when it cannot keep a bundle', async () => {
    // Arrange: the cache folder would have to be made under a file.
    const file = join(dir, 'a-file');
    await writeFile(file, '');

    // Act
    const script = await buildStageThreadScript(join(file, 'cache'));

    // Assess
    expect(script.url.href.endsWith('/pipeline/stages/stage-thread-boot.mjs')).toBe(true);
    expect(script.fallbackReason).toContain(join(file, 'cache'));
    expect(script.fallbackReason).toContain('ENOTDIR');
  });

  // Skipped off Linux only: the OS threads are counted in /proc/self/status.
  it.skipIf(process.platform !== 'linux')(
    'a pool thread runs the bundle: one OS thread a stage thread, not a second one for a loader',
    async () => {
      // Arrange: libuv's pool threads start at its first task; start them before counting.
      await readFile(fileURLToPath(import.meta.url));
      const config = PipelineConfig.parse({ enrich: { geoIp: false } });
      const before = await osThreads();

      // Act
      const pool = await ThreadStages.start(1, () => ({
        settings: { decode: config.decode, timeWindow: config.validate.time },
        enrich: { enrich: config.enrich, redaction: config.redaction },
        routesWorker: 'script-test',
        routeUpdates: [],
        heapLimitMb: 256,
      }));
      const during = await osThreads();
      await pool.close();

      // Assess: with tsx registered in the thread, its loader thread made it 2.
      expect(during - before).toBe(1);
    },
    60_000,
  );
});
