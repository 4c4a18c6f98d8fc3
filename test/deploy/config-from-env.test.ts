import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWorkerLifecycle } from './worker-lifecycle.ts';

/**
 * `shardline consume` without `--config` reads the JSON itself from $SHARDLINE_CONFIG: the form
 * the ECS task definition gives it. From this checkout; container-steps.test.ts runs the same
 * from a production install.
 */
const ROOT = resolve(import.meta.dirname, '../..');

describe('shardline consume with $SHARDLINE_CONFIG', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shardline-config-env-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('consumes, lands, and releases its leases on SIGTERM with exit code 0', async () => {
    // Act
    const run = await runWorkerLifecycle({
      cwd: ROOT,
      command: ['node', 'consumers/cli/bin.cjs', 'consume'],
      dir,
    });

    // Assess
    expect(run.ownersWhileRunning, run.stderr).toHaveLength(2);
    expect(
      run.ownersWhileRunning.every((o) => o !== undefined),
      run.stderr,
    ).toBe(true);
    expect(run.parquetFiles, run.stderr).toBeGreaterThan(0);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.ownersAfterExit).toEqual([undefined, undefined]);
  }, 60_000);
});
