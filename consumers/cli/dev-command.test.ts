import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../pipeline/errors.ts';
import { takePort } from '../../test/support/taken-port.ts';
import { type DevOptions, devStageThreads, runDev } from './dev-command.ts';

describe('devStageThreads', () => {
  it('leaves a core to the local Kinesis thread: one fewer stage thread than "auto"', () => {
    expect(devStageThreads(2)).toBe(1);
    expect(devStageThreads(4)).toBe(3);
    // "auto" stops at 8 threads, so the dev stack stops at 7.
    expect(devStageThreads(16)).toBe(7);
  });

  it('keeps every stage on the event loop on a single core, as "auto" does', () => {
    expect(devStageThreads(1)).toBe(0);
  });
});

/** Whether something accepts connections on the port. */
const answers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

const options = (dir: string, overrides: Partial<DevOptions>): DevOptions => ({
  dir,
  stream: 'dev-test',
  shards: 1,
  httpPort: 0,
  httpsPort: 0,
  metricsPort: 0,
  dynamodbPort: 0,
  uiPort: undefined,
  demo: true,
  demoEvents: 10,
  demoRate: 10,
  exit: true,
  fresh: true,
  timeoutSeconds: 60,
  ...overrides,
});

describe('runDev', () => {
  it('refuses --exit with continuous demo traffic, which would never end, before starting anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dev-exit-'));
    try {
      const run = runDev(options(dir, { demoEvents: undefined }));
      await expect(run).rejects.toBeInstanceOf(ConfigError);
      await expect(run).rejects.toThrow(/--demo-events/);
      expect(existsSync(join(dir, 'dev.pid'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops what it started and unlocks its state dir when a later part fails to start (a port in use)', async () => {
    // Prepare: the dashboard's port is taken; the local Kinesis gets a known free port.
    const dir = await mkdtemp(join(tmpdir(), 'dev-fail-'));
    const taken = await takePort();
    const free = await takePort();
    await free.release();
    try {
      // Act
      const run = runDev(options(dir, { uiPort: taken.port, httpPort: free.port }));

      // Assess: the error comes back (before, the process hung with the Kinesis thread alive).
      await expect(run).rejects.toThrow();
      expect(existsSync(join(dir, 'dev.pid'))).toBe(false);
      expect(await answers(free.port)).toBe(false);
    } finally {
      await taken.release();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
