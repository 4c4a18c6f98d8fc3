import { describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../../fluent-bit/demo/traffic-generator.ts';
import { PipelineConfig } from '../config.ts';
import { MemoryStore } from '../land/memory-store.ts';
import { Pipeline } from '../pipeline.ts';
import type { LandedBatch } from '../shard-processor.ts';
import type { SourceRecord } from '../types.ts';
import { ROW_HEAP_PER_LINE_BYTE } from './micro-batch.ts';

const START = Date.parse('2026-11-22T10:00:00Z');
const encoder = new TextEncoder();

const recordsFactory = (shardId: string, n: number, firstIndex: number): SourceRecord[] =>
  [...generateRequestLogs(n, { seed: 7, firstIndex, startTime: START })].map((log, i) => ({
    shardId,
    sequenceNumber: String(1_000 + i),
    partitionKey: 'pk',
    arrivedAt: new Date(START + 1_000 + i),
    data: encoder.encode(toFluentBitLine(log, String(log.timestamp))),
  }));

describe('batch.maxWorkerBytes', () => {
  it('lands early when the shards together pass it, and never holds more than it plus one record a shard', async () => {
    // Prepare: 3 shards of 60 records (~850-byte lines, ~2.5 KB held each), a 64 KiB worker bound,
    // per-shard limits far away.
    const maxWorkerBytes = 64 * 1024;
    const store = new MemoryStore();
    const landed: LandedBatch[] = [];
    const config = PipelineConfig.parse({
      batch: { maxRows: 100_000, maxBytes: 1024 * 1024 * 1024, maxAgeMs: 60_000, maxWorkerBytes },
      enrich: { geoIp: false },
    });
    const pipeline = await Pipeline.create(config, { store, onLanded: (b) => landed.push(b) });
    const shards = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];
    const records = shards.map((id, s) => recordsFactory(id, 60, s * 1_000));
    const processors = shards.map((id) => pipeline.create(id));
    const largestRecord = Math.max(
      ...records.flat().map((r) => r.data.byteLength * (1 + ROW_HEAP_PER_LINE_BYTE)),
    );

    // Act: the shards are fed concurrently, 10 records at a time, as the consumer feeds them.
    for (let at = 0; at < 60; at += 10) {
      await Promise.all(processors.map((p, s) => p.processRecords(records[s]!.slice(at, at + 10))));
    }
    const beforeShutdown = landed.length;
    await Promise.all(processors.map((p) => p.shutdownRequested()));

    // Assess: cut early for memory, within the bound, and nothing lost or landed twice.
    expect(beforeShutdown).toBeGreaterThan(0);
    expect(landed.slice(0, beforeShutdown).every((b) => b.reason === 'memory')).toBe(true);
    expect(pipeline.memory.peak).toBeGreaterThan(maxWorkerBytes / 2);
    expect(pipeline.memory.peak).toBeLessThanOrEqual(maxWorkerBytes + shards.length * largestRecord);
    expect(pipeline.memory.bytes).toBe(0);
    for (const shard of shards) {
      const batches = landed.filter((b) => b.shardId === shard);
      expect(batches.reduce((n, b) => n + b.rows, 0)).toBe(60);
      expect(batches.at(-1)?.checkpoint.sequenceNumber).toBe('1059');
    }
    expect(pipeline.counters).toMatchObject({ records: 180, landed: 180, deduplicated: 0, deadLettered: 0 });
    await pipeline.close();
  });
});
