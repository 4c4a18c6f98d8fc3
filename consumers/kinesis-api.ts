import {
  DescribeStreamSummaryCommand,
  type DescribeStreamSummaryInput,
  type DescribeStreamSummaryOutput,
  GetRecordsCommand,
  type GetRecordsInput,
  type GetRecordsOutput,
  GetShardIteratorCommand,
  type GetShardIteratorInput,
  type GetShardIteratorOutput,
  type KinesisClient,
  ListShardsCommand,
  type ListShardsInput,
  type ListShardsOutput,
} from '@aws-sdk/client-kinesis';

/**
 * The Kinesis calls a consumer makes. The SDK's `Kinesis` client (what `createKinesisClient`
 * returns) satisfies it; a bare `KinesisClient` is adapted by `toKinesisApi`; tests pass a small
 * fake instead of a network.
 */
export interface KinesisApi {
  describeStreamSummary(input: DescribeStreamSummaryInput): Promise<DescribeStreamSummaryOutput>;
  listShards(input: ListShardsInput): Promise<ListShardsOutput>;
  getShardIterator(input: GetShardIteratorInput): Promise<GetShardIteratorOutput>;
  getRecords(input: GetRecordsInput): Promise<GetRecordsOutput>;
}

export function toKinesisApi(client: KinesisClient | KinesisApi): KinesisApi {
  if ('getRecords' in client && typeof client.getRecords === 'function') return client;
  const bare = client as KinesisClient;
  return {
    describeStreamSummary: (input) => bare.send(new DescribeStreamSummaryCommand(input)),
    listShards: (input) => bare.send(new ListShardsCommand(input)),
    getShardIterator: (input) => bare.send(new GetShardIteratorCommand(input)),
    getRecords: (input) => bare.send(new GetRecordsCommand(input)),
  };
}
