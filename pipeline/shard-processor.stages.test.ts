import { describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../fluent-bit/demo/traffic-generator.ts';
import { BatchConfig } from './config.ts';
import { DEFAULT_DECODE_LIMITS } from './decode/decode-limits.ts';
import { Deduplicator } from './dedupe/deduplicator.ts';
import { ParquetEncoder } from './encode/parquet-encoder.ts';
import { createEnricher } from './enrich/enrich-log.ts';
import { GeoIp } from './enrich/geo-ip.ts';
import { UserAgentClassifier } from './enrich/user-agent.ts';
import { LandingStatus } from './land/landing-status.ts';
import { MemoryStore } from './land/memory-store.ts';
import { silentLogger } from './observability/logger.ts';
import { newCounters } from './pipeline.ts';
import { ShardProcessor } from './shard-processor.ts';
import { RecordStage } from './stages/record-stage.ts';
import { InProcessStages, type RecordStages } from './stages/record-stages.ts';
import { StageThreadError } from './stages/thread-stages.ts';
import type { SourceRecord } from './types.ts';
import { TimeWindowConfig } from './validate/plausible-time.ts';

const START = Date.parse('2026-11-22T10:00:00Z');

const records = (n: number): SourceRecord[] =>
  [...generateRequestLogs(n, { seed: 11, startTime: START })].map((log, i) => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: String(100_000 + i),
    partitionKey: 'pk',
    arrivedAt: new Date(START + i),
    data: new TextEncoder().encode(toFluentBitLine(log, String(log.timestamp))),
  }));

const processorOver = async (stages: RecordStages, store: MemoryStore, maxRows: number) =>
  new ShardProcessor('shardId-000000000000', {
    batch: BatchConfig.parse({ maxRows, maxAgeMs: 60_000, freshBurst: 0 }),
    dedupe: new Deduplicator({ windowMs: 60_000 }),
    stages,
    store,
    counters: newCounters(),
    released: new Map(),
    dedupeWindowMs: 60_000,
    landing: new LandingStatus(),
    activity: { waitingSince: undefined, lastLandedAt: undefined, inactiveSince: undefined },
    logger: silentLogger,
  });

const inProcess = async () =>
  new InProcessStages(
    new RecordStage(
      createEnricher({ geoIp: GeoIp.disabled(), userAgents: new UserAgentClassifier() }),
      await ParquetEncoder.create(),
      { decode: DEFAULT_DECODE_LIMITS, timeWindow: TimeWindowConfig.parse({}) },
    ),
  );

describe('ShardProcessor over its stages', () => {
  it('fails its call, not the process, when the stage dies while a batch is landing', async () => {
    // Prepare: the second chunk fails (its thread died) while the first chunk's batch is being put.
    const real = await inProcess();
    let prepares = 0;
    const dying: RecordStages = {
      threads: 1,
      open: () => real.open(),
      prepare: (pid, recs, options) =>
        ++prepares === 2
          ? new Promise((_, reject) =>
              setTimeout(() => reject(new StageThreadError('a stage thread exited')), 5),
            )
          : real.prepare(pid, recs, options),
      encode: (pid, refs, through) => real.encode(pid, refs, through),
      refused: (pid, refs, because) => real.refused(pid, refs, because),
      free: (pid, through) => real.free(pid, through),
      drop: (pid) => real.drop(pid),
      close: () => real.close(),
    };
    const store = new (class extends MemoryStore {
      override async put(key: string, body: Uint8Array): Promise<void> {
        await new Promise((r) => setTimeout(r, 100));
        await super.put(key, body);
      }
    })();
    const processor = await processorOver(dying, store, 10);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    // Act
    const failed = await processor.processRecords(records(800)).then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 50));
    process.off('unhandledRejection', onUnhandled);
    processor.leaseLost();
    await real.close();

    // Assess
    expect(failed).toBeInstanceOf(StageThreadError);
    expect(unhandled).toEqual([]);
  });

  it('gives the event loop a turn between chunks when the stages run in its thread', async () => {
    // Prepare
    const stages = await inProcess();
    const processor = await processorOver(stages, new MemoryStore({ keepBodies: false }), 100_000);
    const input = records(5_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);

    // Act
    await processor.processRecords(input);
    clearInterval(timer);
    await processor.shutdownRequested();
    await stages.close();

    // Assess: 10 chunks of 500, a turn after each of the first nine.
    expect(ticks).toBeGreaterThan(0);
  });
});
