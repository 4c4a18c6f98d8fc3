import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, platform, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_THREADS, sizeThreadPool, threadPoolSize } from './thread-pool.cjs';

const ROOT = resolve(import.meta.dirname, '../..');
const exec = promisify(execFile);

describe("libuv's thread pool of a Shardline process (thread-pool.cjs)", () => {
  it('has two threads a core and 2 more, within libuv’s bound', () => {
    expect(threadPoolSize(1)).toBe(4);
    expect(threadPoolSize(2)).toBe(6);
    expect(threadPoolSize(8)).toBe(18);
    expect(threadPoolSize(0)).toBe(4);
    expect(threadPoolSize(4096)).toBe(MAX_THREADS);
  });

  it('is set in the environment only when the operator set none', () => {
    const unset: Record<string, string | undefined> = {};
    const empty: Record<string, string | undefined> = { UV_THREADPOOL_SIZE: ' ' };
    const chosen: Record<string, string | undefined> = { UV_THREADPOOL_SIZE: '4' };

    expect(sizeThreadPool(unset, 3)).toBe(8);
    expect(sizeThreadPool(empty, 3)).toBe(8);
    expect(sizeThreadPool(chosen, 3)).toBe(4);

    expect(unset.UV_THREADPOOL_SIZE).toBe('8');
    expect(empty.UV_THREADPOOL_SIZE).toBe('8');
    expect(chosen.UV_THREADPOOL_SIZE).toBe('4');
  });

  // Threads are counted in /proc, which only Linux has: elsewhere this part is skipped.
  describe.skipIf(platform() !== 'linux')(
    'the `shardline` command (bin.cjs) [Linux only: threads counted in /proc]',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'shardline-pool-'));
      afterAll(() => rmSync(dir, { recursive: true, force: true }));
      // Loaded before the command (`--require`): at exit, the process's threads, pool included
      // (libuv starts all of a pool's threads at once, here when the CLI's modules are read).
      const probe = join(dir, 'count-threads.cjs');
      writeFileSync(
        probe,
        "process.on('exit', () => process.stderr.write('threads=' + require('node:fs').readdirSync('/proc/self/task').length + '\\n'));\n",
      );
      const threadsOf = async (pool: string | undefined): Promise<number> => {
        const env: Record<string, string | undefined> = { ...process.env, UV_THREADPOOL_SIZE: pool };
        if (pool === undefined) delete env.UV_THREADPOOL_SIZE;
        const { stderr } = await exec(
          process.execPath,
          [`--require=${probe}`, 'consumers/cli/bin.cjs', '--version'],
          {
            cwd: ROOT,
            env,
          },
        );
        const m = /threads=(\d+)/.exec(stderr);
        if (!m) throw new Error(`no thread count in: ${stderr}`);
        return Number(m[1]);
      };

      it('starts the pool at that size, or at the size the operator set', async () => {
        // Act: the same command with the pool left to it, at libuv's default, and at a size set.
        const sized = await threadsOf(undefined);
        const libuvDefault = await threadsOf('4');
        const set = await threadsOf('13');

        // Assess: only the pool's threads differ.
        expect(sized - libuvDefault).toBe(threadPoolSize(availableParallelism()) - 4);
        expect(set - libuvDefault).toBe(13 - 4);
      });
    },
  );
});
