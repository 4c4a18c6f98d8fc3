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
  type Shard,
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

/** Shards per ListShards page (Kinesis allows up to 10,000). */
const LIST_SHARDS_PAGE = 1000;

/** Every shard of a stream, open or closed, across ListShards pages. */
export async function listAllShards(
  api: Pick<KinesisApi, 'listShards'>,
  streamName: string,
): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // With a NextToken, Kinesis rejects a StreamName in the same call.
    const page = await api.listShards(
      nextToken === undefined
        ? { StreamName: streamName, MaxResults: LIST_SHARDS_PAGE }
        : { NextToken: nextToken, MaxResults: LIST_SHARDS_PAGE },
    );
    if (page.Shards) shards.push(...page.Shards);
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return shards;
}
