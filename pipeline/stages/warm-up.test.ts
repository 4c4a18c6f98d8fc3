import { afterEach, describe, expect, it } from 'vitest';
import { PipelineConfig } from '../config.ts';
import { ParquetEncoder } from '../encode/parquet-encoder.ts';
import { GeoIp } from '../enrich/geo-ip.ts';
import { openEnricher } from '../enrich/open-enricher.ts';
import { RouteBook } from '../enrich/routes/route-book.ts';
import { RecordStage } from './record-stage.ts';
import { ThreadStages } from './thread-stages.ts';
import { WARM_UP_LINES, warmUp, warmUpRecords } from './warm-up.ts';

const config = PipelineConfig.parse({ enrich: { geoIp: false } });
const settings = { decode: config.decode, timeWindow: config.validate.time };

describe('warmUp', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('runs every warm-up line through enrich and encode as a row, and leaves the stage holding none', async () => {
    // Prepare
    const encoder = await ParquetEncoder.create();
    closers.push(() => encoder.close());
    const stage = new RecordStage(openEnricher(config, new RouteBook(), GeoIp.disabled()), encoder, settings);
    const records = warmUpRecords(WARM_UP_LINES, Date.parse('2026-12-01T10:00:00Z'));

    // Act
    const rows = await warmUp(stage, records);

    // Assess: valid lines only (none dead-lettered), so the warm-up runs what real rows run; half
    // of them one a record, the rest packed and gzipped as the sidecars send them.
    expect(records).toHaveLength(WARM_UP_LINES / 2 + WARM_UP_LINES / 2 / 100);
    expect([...(records.at(-1)?.data.subarray(0, 2) ?? [])]).toEqual([0x1f, 0x8b]);
    expect(rows).toBe(WARM_UP_LINES);
    expect(stage.heldRows).toBe(0);
  }, 60_000);

  it('leaves a stage thread with no learned routes: its warm-up paths never reach the routes it stores', async () => {
    // Prepare
    const stages = await ThreadStages.start(1, () => ({
      settings,
      enrich: { enrich: config.enrich, redaction: config.redaction },
      routesWorker: 'warm-up-test.t0',
      routeUpdates: [],
      heapLimitMb: 512,
    }));
    closers.push(() => stages.close());

    // Act
    const learned = await stages.takeRoutes();

    // Assess
    expect(learned).toEqual([]);
  }, 60_000);
});
