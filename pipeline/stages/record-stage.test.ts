import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../../fluent-bit/demo/traffic-generator.ts';
import { PipelineConfig } from '../config.ts';
import { MemoryStore } from '../land/memory-store.ts';
import { Pipeline } from '../pipeline.ts';
import type { SourceRecord } from '../types.ts';
import { PREPARE_MAX_BYTES } from './record-stage.ts';

const START = Date.parse('2026-11-22T10:00:00Z');

/** `count` gzip records of `lines` distinct request logs each, as Fluent Bit's simple aggregation sends them. */
const gzipRecords = (count: number, lines: number): SourceRecord[] => {
  const logs = [...generateRequestLogs(count * lines, { seed: 3, startTime: START, ratePerSecond: 5_000 })];
  return Array.from({ length: count }, (_, r) => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: String(9_000 + r),
    partitionKey: 'pk',
    arrivedAt: new Date(START + 60_000),
    data: gzipSync(
      logs
        .slice(r * lines, (r + 1) * lines)
        .map((log) => toFluentBitLine(log, String(log.timestamp)))
        .join(''),
    ),
  }));
};

describe('record stage chunks', () => {
  it('stop once their decoded lines pass the bound, and the processor lands every row of the rest', async () => {
    // Prepare: 40 records of 600 lines (~20 MB decoded, ~1 MB sent), more than one chunk's bound.
    const records = gzipRecords(40, 600);
    const store = new MemoryStore({ keepBodies: false });
    const config = PipelineConfig.parse({ enrich: { geoIp: false }, stages: { threads: 0 } });
    const pipeline = await Pipeline.create(config, { store, routesSyncMs: 0 });
    const stages = pipeline.stages;
    try {
      // Act
      const probe = stages.open();
      const first = await stages.prepare(probe, records, {});
      stages.drop(probe);
      const processor = pipeline.create('shardId-000000000000');
      await processor.processRecords(records);
      const checkpoint = await processor.shutdownRequested();

      // Assess
      expect(first.records).toBeGreaterThan(1);
      expect(first.records).toBeLessThan(records.length);
      const decoded = Array.from(first.lineBytes).reduce((a, b) => a + b, 0);
      expect(decoded).toBeGreaterThanOrEqual(PREPARE_MAX_BYTES);
      expect(checkpoint).toEqual({ sequenceNumber: '9039' });
      expect(pipeline.counters).toMatchObject({ records: 40, logs: 24_000, landed: 24_000, deadLettered: 0 });
    } finally {
      await pipeline.close();
    }
  }, 60_000);
});
