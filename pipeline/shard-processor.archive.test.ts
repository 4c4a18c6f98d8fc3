import { describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../fluent-bit/demo/traffic-generator.ts';
import { decodeArchive } from './archive/raw-archive.ts';
import { PipelineConfig } from './config.ts';
import { MemoryStore } from './land/memory-store.ts';
import { Pipeline } from './pipeline.ts';
import type { LandedBatch } from './shard-processor.ts';
import type { SourceRecord } from './types.ts';

const SHARD = 'shardId-000000000003';
const encoder = new TextEncoder();

const recordFactory = (data: Uint8Array, seq: number): SourceRecord => ({
  shardId: SHARD,
  sequenceNumber: String(5_000 + seq),
  partitionKey: `pk${seq}`,
  arrivedAt: new Date(Date.parse('2026-11-22T10:00:00Z') + seq),
  data,
});

const records = (n: number): SourceRecord[] =>
  [...generateRequestLogs(n, { seed: 9, startTime: Date.parse('2026-11-22T10:00:00Z') })].map((log, i) =>
    recordFactory(encoder.encode(toFluentBitLine(log, String(log.timestamp))), i),
  );

const run = async (archive: Record<string, unknown>, input: SourceRecord[]) => {
  const store = new MemoryStore();
  const landed: LandedBatch[] = [];
  const config = PipelineConfig.parse({
    batch: { maxRows: 4, maxAgeMs: 60_000 },
    enrich: { geoIp: false },
    archive,
  });
  const pipeline = await Pipeline.create(config, { store, onLanded: (b) => landed.push(b), routesSyncMs: 0 });
  const processor = pipeline.create(SHARD);
  await processor.processRecords(input);
  await processor.shutdownRequested();
  await pipeline.close();
  return { store, landed, counters: pipeline.counters };
};

describe('ShardProcessor and the raw archive', () => {
  it("lands each batch's records under raw/ with the batch's key, after its Parquet, before its checkpoint", async () => {
    // Prepare
    const input = [...records(9), recordFactory(encoder.encode('{"broken\n'), 9)];

    // Act
    const { store, landed, counters } = await run({}, input);

    // Assess: every batch has an archive key with the same stem as its Parquet, holding its records.
    const archived = (await Promise.all(landed.map((b) => store.get(b.archiveKey!)))).flatMap((o) =>
      decodeArchive(o),
    );
    expect(archived.map((r) => r.sequenceNumber)).toEqual(input.map((r) => r.sequenceNumber));
    expect(Buffer.from(archived[9]!.data).toString()).toBe('{"broken\n');
    for (const b of landed) {
      const stem = b.archiveKey!.replace(/^raw\//, '').replace(/\.records\.gz$/, '');
      expect(b.keys.some((k) => k === `requests/${stem}.parquet` || k === `dead_letters/${stem}.jsonl`)).toBe(
        true,
      );
      const puts = store.puts.filter((k) => k.includes(stem.slice(stem.indexOf('/hr=') + 8)));
      expect(puts.at(-1)).toBe(b.archiveKey);
    }
    expect(counters.files).toBe(landed.reduce((n, b) => n + b.keys.length, 0));
  });

  it('lands nothing under raw/ when archive.enabled is false', async () => {
    // Act
    const { store, landed } = await run({ enabled: false }, records(5));

    // Assess
    expect(landed.every((b) => b.archiveKey === undefined)).toBe(true);
    expect(await store.list('raw/')).toEqual([]);
  });
});
