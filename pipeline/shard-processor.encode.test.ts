import { describe, expect, it } from 'vitest';
import { generateRequestLogs, toFluentBitLine } from '../fluent-bit/demo/traffic-generator.ts';
import type { RequestRow } from '../schemas/request-row.ts';
import { BatchConfig } from './config.ts';
import { decodeDeadLetters } from './dead-letter/dead-letter-sink.ts';
import { DEFAULT_DECODE_LIMITS } from './decode/decode-limits.ts';
import { Deduplicator } from './dedupe/deduplicator.ts';
import type { PackedRows } from './encode/packed-rows.ts';
import type { ParquetEncoder } from './encode/parquet-encoder.ts';
import { createEnricher } from './enrich/enrich-log.ts';
import { GeoIp } from './enrich/geo-ip.ts';
import { UserAgentClassifier } from './enrich/user-agent.ts';
import { EncodeError } from './errors.ts';
import { LandingStatus } from './land/landing-status.ts';
import { MemoryStore } from './land/memory-store.ts';
import { silentLogger } from './observability/logger.ts';
import { newCounters } from './pipeline.ts';
import { ShardProcessor } from './shard-processor.ts';
import { RecordStage } from './stages/record-stage.ts';
import { InProcessStages } from './stages/record-stages.ts';
import type { SourceRecord } from './types.ts';
import { TimeWindowConfig } from './validate/plausible-time.ts';

/** An encoder that refuses any batch holding one of `poison` (as DuckDB might a value it cannot take). */
const refusingEncoder = (poison: ReadonlySet<string>, encoded: RequestRow[][]) => {
  const encode = async (rows: readonly RequestRow[]) => {
    if (rows.some((r) => poison.has(r.request_id))) throw new EncodeError('value out of range');
    encoded.push([...rows]);
    return new Uint8Array([rows.length]);
  };
  return {
    encode,
    encodePacked: (packed: PackedRows, indices: ArrayLike<number>) =>
      encode(Array.from(indices, (i) => packed.row(i))),
    close: async () => undefined,
  } as unknown as ParquetEncoder;
};

/**
 * Sets up a processor whose encoder refuses the rows of `refusedByEncoder`, and whose enricher
 * makes, for the logs of `unholdable`, a row with a status no int16 column holds (an enricher's
 * bug, or a value validation let through).
 */
const setup = (refusedByEncoder: ReadonlySet<string>, unholdable: ReadonlySet<string> = new Set()) => {
  const store = new MemoryStore();
  const counters = newCounters();
  const encoded: RequestRow[][] = [];
  const enrich = createEnricher({ geoIp: GeoIp.disabled(), userAgents: new UserAgentClassifier() });
  const processor = new ShardProcessor('shardId-000000000000', {
    batch: BatchConfig.parse({ maxAgeMs: 60_000 }),
    dedupe: new Deduplicator({ windowMs: 60_000 }),
    stages: new InProcessStages(
      new RecordStage(
        (log, context) => {
          const row = enrich(log, context);
          if (unholdable.has(row.request_id)) row.status = 100_000;
          return row;
        },
        refusingEncoder(refusedByEncoder, encoded),
        { decode: DEFAULT_DECODE_LIMITS, timeWindow: TimeWindowConfig.parse({}) },
      ),
    ),
    store,
    counters,
    released: new Map(),
    dedupeWindowMs: 60_000,
    landing: new LandingStatus(),
    activity: { waitingSince: undefined, lastLandedAt: undefined, inactiveSince: undefined },
    logger: silentLogger,
  });
  return { store, counters, encoded, processor };
};

const records = (n: number): { records: SourceRecord[]; ids: string[] } => {
  const logs = [...generateRequestLogs(n, { seed: 9, startTime: Date.parse('2026-11-22T10:00:00Z') })];
  return {
    ids: logs.map((l) => String(l.request_id ?? (l.headers as Record<string, string>)['x-request-id'])),
    records: logs.map((log, i) => ({
      shardId: 'shardId-000000000000',
      sequenceNumber: String(500 + i),
      partitionKey: 'pk',
      arrivedAt: new Date(Date.parse('2026-11-22T10:00:00Z') + i),
      data: new TextEncoder().encode(toFluentBitLine(log, String(log.timestamp))),
    })),
  };
};

/**
 * Six logs whose 3rd and 5th the encoder refuses (`by: 'encoder'`) or whose values no column holds
 * (`by: 'packing'`), through a processor until shutdown; checks that the other four land, that the
 * two are dead-lettered, and gives back their letters.
 */
const refuseTwoOfSix = async (by: 'encoder' | 'packing') => {
  const { records: input, ids } = records(6);
  const refused = new Set([ids[2]!, ids[4]!]);
  const { store, counters, encoded, processor } =
    by === 'encoder' ? setup(refused) : setup(new Set(), refused);

  await processor.processRecords(input);
  const checkpoint = await processor.shutdownRequested();

  expect(checkpoint).toEqual({ sequenceNumber: '505' });
  expect(encoded.at(-1)?.map((r) => r.request_id)).toEqual([ids[0], ids[1], ids[3], ids[5]]);
  expect({ landed: counters.landed, deadLettered: counters.deadLettered }).toEqual({
    landed: 4,
    deadLettered: 2,
  });
  const [letterKey] = await store.list('dead_letters/');
  const letters = decodeDeadLetters(await store.get(letterKey!));
  expect(letters.map((l) => [l.reason, l.stage, l.sequenceNumber, l.partitionKey])).toEqual([
    ['encode_failed', 'encode', '502', 'pk'],
    ['encode_failed', 'encode', '504', 'pk'],
  ]);
  return { input, ids, letters };
};

describe('ShardProcessor with rows the encoder refuses', () => {
  it('dead-letters a row with a value its column cannot hold when the row is made, with its original bytes, and lands the rest', async () => {
    // Act (and the checks every refusal shares)
    const { input, letters } = await refuseTwoOfSix('packing');

    // Assess: the column and the value's type, never the value.
    expect(letters[0]!.message).toContain('column status (int16) of row');
    expect(letters[0]!.message).not.toContain('100000');
    // The log line as sent, without the newline that ends it in the record.
    expect(letters[0]!.data).toEqual(input[2]!.data);
  });

  it('bisects a batch the encoder refuses for rows it refuses on their own, and dead-letters them as enriched', async () => {
    // Act (and the checks every refusal shares)
    const { ids, letters } = await refuseTwoOfSix('encoder');

    // Assess: the line is not held once the row is made: the row as enriched, which says so.
    expect(letters[0]!.message).toContain('the row as enriched');
    const row = JSON.parse(new TextDecoder().decode(letters[0]!.data)) as Record<string, unknown>;
    expect([row.request_id, row.sequence_number, row.shard_id]).toEqual([
      ids[2],
      '502',
      'shardId-000000000000',
    ]);
    // Timestamps (BigInt) as decimal strings of microseconds.
    expect(row.ts).toMatch(/^\d{16}$/);
  });
});
