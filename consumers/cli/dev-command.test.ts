import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

  describe('a whole demo run (--exit)', () => {
    afterEach(() => vi.restoreAllMocks());

    it.each([
      ['sidecar', (records: number, sent: number) => expect(records).toBeLessThan(sent / 20)],
      ['lines', (records: number, sent: number) => expect(records).toBe(sent)],
    ] as const)(
      'packs the demo lines as %s and every line is accounted for',
      async (format, packed) => {
        // Prepare: the JSON summary is the last line written to stdout.
        const dir = await mkdtemp(join(tmpdir(), `dev-run-${format}-`));
        const out: string[] = [];
        vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
          out.push(String(chunk));
          return true;
        });
        try {
          // Act
          const code = await runDev(options(dir, { demoEvents: 600, demoFormat: format }));

          // Assess
          vi.restoreAllMocks();
          expect(code).toBe(0);
          const summary = JSON.parse(out.at(-1) as string);
          expect(summary.demoFormat).toBe(format);
          expect(summary.sent).toBe(600);
          packed(summary.kinesisRecords, summary.sent);
          expect(summary.landed + summary.deduplicated + summary.deadLettered).toBe(600);
          expect(summary.deadLettered).toBe(summary.malformedSent);
          expect(summary.deduplicated).toBe(summary.duplicatesSent);
          expect(summary.warehouseRows).toBe(summary.landed);
          expect(summary.warehouseDuplicateRows).toBe(0);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      60_000,
    );
  });
});
