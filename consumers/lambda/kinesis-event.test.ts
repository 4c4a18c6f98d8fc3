import { describe, expect, it } from 'vitest';
import { KinesisEventError } from './errors.ts';
import { shardIdOf, shardRecordsOf } from './kinesis-event.ts';
import { cutBatches } from './kinesis-handler.ts';
import { kinesisEventFactory, kinesisEventRecordFactory } from './testing/kinesis-event-factory.ts';

describe('shardRecordsOf', () => {
  it('decodes Data, arrival seconds and the shard id of eventID, grouped by shard in order', () => {
    // Prepare
    const arrived = new Date('2026-05-01T10:00:00.123Z');
    const event = {
      Records: [
        kinesisEventRecordFactory('shardId-000000000001', {
          SequenceNumber: '11',
          PartitionKey: 'a',
          ApproximateArrivalTimestamp: arrived,
          Data: Buffer.from('{"x":1}\n'),
        }),
        kinesisEventRecordFactory('shardId-000000000002', { SequenceNumber: '21', Data: Buffer.from('b') }),
        kinesisEventRecordFactory('shardId-000000000001', { SequenceNumber: '12', Data: Buffer.from('c') }),
      ],
    };

    // Act
    const shards = shardRecordsOf(event);

    // Assess
    expect([...shards.keys()]).toEqual(['shardId-000000000001', 'shardId-000000000002']);
    const [first, second] = shards.get('shardId-000000000001')!;
    expect(first).toMatchObject({ shardId: 'shardId-000000000001', sequenceNumber: '11', partitionKey: 'a' });
    expect(first!.arrivedAt.toISOString()).toBe(arrived.toISOString());
    expect(Buffer.from(first!.data).toString()).toBe('{"x":1}\n');
    expect(second!.sequenceNumber).toBe('12');
  });

  it('refuses events that are not from a Kinesis stream, saying what to check', () => {
    expect(() => shardRecordsOf({} as never)).toThrow(KinesisEventError);
    expect(() => shardIdOf('no-colon')).toThrow(/is the trigger a Kinesis stream/);
    const bad = kinesisEventFactory('shardId-000000000000', [{ SequenceNumber: 'abc' }]);
    expect(() => shardRecordsOf(bad)).toThrow(/sequenceNumber/);
  });
});

describe('shardRecordsOf with fields of the wrong type', () => {
  it('keeps every value it passes on of the type its readers expect', () => {
    // Prepare: AWS sends strings and a number; a hand-made or damaged event may not.
    const event = kinesisEventFactory('shardId-000000000000', [
      { SequenceNumber: '11' },
      { SequenceNumber: '12' },
    ]);
    const [a, b] = event.Records as unknown as { kinesis: Record<string, unknown> }[];
    a!.kinesis.partitionKey = 42;
    a!.kinesis.data = undefined;
    b!.kinesis.approximateArrivalTimestamp = '2026-05-01';
    const numeric = kinesisEventFactory('shardId-000000000000', [{ SequenceNumber: '13' }]);
    (numeric.Records[0] as unknown as { kinesis: Record<string, unknown> }).kinesis.sequenceNumber = 13;

    // Act
    const [first, second] = shardRecordsOf(event).get('shardId-000000000000')!;

    // Assess
    expect(first!.partitionKey).toBe('');
    expect(first!.data.byteLength).toBe(0);
    expect(Number.isNaN(second!.arrivedAt.getTime())).toBe(true);
    expect(() => shardRecordsOf(numeric)).toThrow(/sequenceNumber/);
  });
});

describe('cutBatches', () => {
  it('cuts by record count and Data bytes only, so the same records always make the same batches', () => {
    // Prepare
    const records = shardRecordsOf(
      kinesisEventFactory(
        'shardId-000000000000',
        Array.from({ length: 7 }, (_, i) => ({ SequenceNumber: String(100 + i), Data: new Uint8Array(10) })),
      ),
    ).get('shardId-000000000000')!;

    // Act
    const byRows = cutBatches(records, { maxRows: 3, maxBytes: 1_000 });
    const byBytes = cutBatches(records, { maxRows: 100, maxBytes: 20 });

    // Assess
    expect(byRows.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(byBytes.map((b) => b.length)).toEqual([2, 2, 2, 1]);
    expect(cutBatches(records, { maxRows: 3, maxBytes: 1_000 })).toEqual(byRows);
  });
});
