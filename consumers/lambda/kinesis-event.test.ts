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
