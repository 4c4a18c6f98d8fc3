import type {
  DescribeStreamSummaryInput,
  DescribeStreamSummaryOutput,
  GetRecordsInput,
  GetRecordsOutput,
  GetShardIteratorInput,
  GetShardIteratorOutput,
  ListShardsInput,
  ListShardsOutput,
} from '@aws-sdk/client-kinesis';

/**
 * The Kinesis calls a consumer makes. The SDK's `Kinesis` client (what `createKinesisClient`
 * returns) satisfies it; tests pass a small fake instead of a network.
 */
export interface KinesisApi {
  describeStreamSummary(input: DescribeStreamSummaryInput): Promise<DescribeStreamSummaryOutput>;
  listShards(input: ListShardsInput): Promise<ListShardsOutput>;
  getShardIterator(input: GetShardIteratorInput): Promise<GetShardIteratorOutput>;
  getRecords(input: GetRecordsInput): Promise<GetRecordsOutput>;
}
