import type {
  DescribeStreamSummaryOutput,
  GetRecordsInput,
  GetRecordsOutput,
  GetShardIteratorInput,
  GetShardIteratorOutput,
  ListShardsInput,
  ListShardsOutput,
  StreamDescriptionSummary,
} from '@aws-sdk/client-kinesis';
import type { KinesisApi } from '../kinesis-api.ts';

/** A Kinesis-like error, as the SDK throws it. */
export function kinesisError(name: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(`${name} (fake)`), { name, $metadata: { httpStatusCode } });
}

interface FakeShard {
  readonly shardId: string;
  readonly records: { sequenceNumber: string; data: Uint8Array }[];
  closed: boolean;
  parentShardId?: string;
}

/**
 * Kinesis in memory for unit tests: shards of records with numeric sequence numbers, iterators
 * that encode a position, and scripted failures. Time comes from the injected clock so that a
 * test can assert how calls were spaced.
 */
export class FakeKinesis implements KinesisApi {
  readonly shards = new Map<string, FakeShard>();
  /** Thrown, in order, by the next GetRecords calls. */
  readonly getRecordsFailures: Error[] = [];
  readonly iteratorRequests: GetShardIteratorInput[] = [];
  readonly listShardsRequests: ListShardsInput[] = [];
  /** DescribeStreamSummary answers this; undefined means the stream does not exist. */
  streamStatus: string | undefined = 'ACTIVE';
  /** Shards per ListShards page. */
  pageSize = 1_000;
  /** Clock time of every GetRecords call, failed or not. */
  readonly getRecordsCalls: number[] = [];
  /** The iterator of each GetRecords call, in call order. */
  readonly getRecordsIterators: string[] = [];
  /** When set, each GetRecords call (by 0-based index) answers only once this settles. */
  holdGetRecords: ((call: number) => Promise<void>) | undefined;
  #nextSequence = 1000;

  constructor(private readonly now: () => number = () => 0) {}

  addShard(shardId: string, options: { parentShardId?: string } = {}): void {
    this.shards.set(shardId, { shardId, records: [], closed: false, parentShardId: options.parentShardId });
  }

  put(shardId: string, count: number): string[] {
    const shard = this.#shard(shardId);
    const added: string[] = [];
    for (let i = 0; i < count; i++) {
      const sequenceNumber = String(this.#nextSequence++);
      shard.records.push({ sequenceNumber, data: new TextEncoder().encode(`record ${sequenceNumber}`) });
      added.push(sequenceNumber);
    }
    return added;
  }

  close(shardId: string): void {
    this.#shard(shardId).closed = true;
  }

  async describeStreamSummary(): Promise<DescribeStreamSummaryOutput> {
    if (this.streamStatus === undefined) throw kinesisError('ResourceNotFoundException');
    return { StreamDescriptionSummary: { StreamStatus: this.streamStatus } as StreamDescriptionSummary };
  }

  async listShards(input: ListShardsInput): Promise<ListShardsOutput> {
    this.listShardsRequests.push(input);
    const start = Number(input.NextToken ?? 0);
    const all = [...this.shards.values()];
    const page = all.slice(start, start + this.pageSize);
    return {
      Shards: page.map((shard) => ({
        ShardId: shard.shardId,
        ParentShardId: shard.parentShardId,
        HashKeyRange: undefined,
        SequenceNumberRange: undefined,
      })),
      NextToken: start + page.length < all.length ? String(start + page.length) : undefined,
    };
  }

  async getShardIterator(input: GetShardIteratorInput): Promise<GetShardIteratorOutput> {
    this.iteratorRequests.push(input);
    const shard = this.#shard(input.ShardId ?? '');
    const index = (sequence: string) => shard.records.findIndex((r) => r.sequenceNumber === sequence);
    let position: number;
    switch (input.ShardIteratorType) {
      case 'TRIM_HORIZON':
        position = 0;
        break;
      case 'LATEST':
        position = shard.records.length;
        break;
      case 'AT_SEQUENCE_NUMBER':
        position = index(input.StartingSequenceNumber ?? '');
        break;
      case 'AFTER_SEQUENCE_NUMBER':
        position = index(input.StartingSequenceNumber ?? '') + 1;
        break;
      default:
        throw kinesisError('InvalidArgumentException');
    }
    return { ShardIterator: `${shard.shardId}@${position}` };
  }

  async getRecords(input: GetRecordsInput): Promise<GetRecordsOutput> {
    this.getRecordsCalls.push(this.now());
    this.getRecordsIterators.push(input.ShardIterator ?? '');
    await this.holdGetRecords?.(this.getRecordsCalls.length - 1);
    const failure = this.getRecordsFailures.shift();
    if (failure) throw failure;
    const [shardId = '', at = '0'] = (input.ShardIterator ?? '').split('@');
    const shard = this.#shard(shardId);
    const start = Number(at);
    const slice = shard.records.slice(start, start + (input.Limit ?? 10_000));
    const next = start + slice.length;
    const ended = shard.closed && slice.length === 0 && next >= shard.records.length;
    return {
      Records: slice.map((r) => ({
        SequenceNumber: r.sequenceNumber,
        PartitionKey: 'pk',
        Data: r.data,
        ApproximateArrivalTimestamp: new Date(this.now()),
      })),
      MillisBehindLatest: 0,
      NextShardIterator: ended ? undefined : `${shardId}@${next}`,
    };
  }

  #shard(shardId: string): FakeShard {
    const shard = this.shards.get(shardId);
    if (!shard) throw kinesisError('ResourceNotFoundException');
    return shard;
  }
}
