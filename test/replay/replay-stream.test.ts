import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReplay } from '../../consumers/cli/replay-command.ts';
import type { LocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import { createObjectStore } from '../../pipeline/pipeline.ts';
import { type DemoLake, demoLake, sink, warehouseFigures } from '../lake/demo-lake.ts';
import { type S3Server, startS3Server } from '../support/s3-server.ts';

/**
 * kinesis_to_s3 replay: each shard read from AT_TIMESTAMP until caught up, into an S3 lake
 * (s3rver), with the consumer's checkpoints left exactly as they were.
 */
describe('shardline replay --source stream', () => {
  let kinesis: LocalKinesis;
  let s3: S3Server;
  let lake: DemoLake;

  beforeAll(async () => {
    [kinesis, s3] = await Promise.all([
      startLocalKinesis({ httpPort: 0, httpsPort: 0 }),
      startS3Server('replay-lake'),
    ]);
    lake = await demoLake(kinesis, {
      stream: 'replay-stream',
      events: 2_000,
      lake: { type: 's3', bucket: 'replay-lake', prefix: 'shardline/', endpoint: s3.endpoint },
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([kinesis?.close(), s3?.close()]);
    if (lake) await rm(lake.dir, { recursive: true, force: true });
  });

  it('reads every shard from --from until caught up, stops, and leaves the live checkpoints alone', async () => {
    // Prepare
    const checkpoints = await readFile(join(lake.dir, 'checkpoints.json'), 'utf8');
    const before = await warehouseFigures(lake.warehouseFile);
    const out = sink();
    const err = sink();

    // Act
    const code = await runReplay(
      {
        dir: '',
        config: lake.configFile,
        source: 'stream',
        from: '2000-01-01T00:00:00Z',
        dryRun: false,
        load: true,
        pollIntervalMs: 200,
      },
      out.stream,
      err.stream,
    );

    // Assess
    const summary = out.last();
    expect(code).toBe(0);
    expect(summary).toMatchObject({
      records: lake.counters.records,
      landed: lake.counters.landed,
      warehouse: { newRows: 0, replacedRows: 0 },
    });
    expect(err.text()).toMatch(/shardId-000000000000 +\[#*\.*\] +\d+% \d+ records/);
    expect(await readFile(join(lake.dir, 'checkpoints.json'), 'utf8')).toBe(checkpoints);
    expect(await warehouseFigures(lake.warehouseFile)).toEqual(before);
    const store = createObjectStore(lake.config.lake);
    expect((await store.list(`replays/requests/g=${summary.generation}/`)).length).toBeGreaterThan(0);
    expect(await store.list(`_shardline/replays/g=${summary.generation}.json`)).toHaveLength(1);
  });

  it('replays nothing for a range before the stream had records', async () => {
    // Act
    const out = sink();
    await runReplay(
      {
        dir: '',
        config: lake.configFile,
        source: 'stream',
        from: '2001-01-01T00:00:00Z',
        to: '2001-01-02T00:00:00Z',
        dryRun: true,
        load: false,
      },
      out.stream,
      sink().stream,
    );

    // Assess
    expect(out.last()).toMatchObject({ records: 0, landed: 0, objects: 0 });
  });

  it('warns when its generation is not newer than a replay already in the lake (a clock behind)', async () => {
    // Act
    const err = sink();
    await runReplay(
      {
        dir: '',
        config: lake.configFile,
        source: 'stream',
        from: '2001-01-01T00:00:00Z',
        to: '2001-01-02T00:00:00Z',
        generation: 1,
        dryRun: true,
        load: false,
      },
      sink().stream,
      err.stream,
    );

    // Assess
    expect(err.text()).toMatch(/warning: generation 1 is not newer than generation \d+ of an earlier replay/);
  });
});
