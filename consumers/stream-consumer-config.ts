import { z } from 'zod';

/**
 * Tunables of a StreamConsumer and its shard readers. Parsed once at start; the defaults suit
 * AWS Kinesis (5 GetRecords calls per second per shard, 10,000 records a call).
 *
 * Example: `{ "initialPosition": "AT_TIMESTAMP", "initialTimestamp": "2025-01-15T10:00:00Z" }`
 */
export const streamConsumerFields = {
  initialPosition: z
    .enum(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'])
    .default('TRIM_HORIZON')
    .describe(
      'Where a shard without a checkpoint starts. TRIM_HORIZON (oldest record kept) loses nothing on a first start; LATEST skips the backlog. Child shards of a split or merge always start at TRIM_HORIZON.',
    ),
  initialTimestamp: z
    // A Date passes through, as the CLI hands its parsed config on to the consumer.
    .preprocess(
      (value) => (value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : value),
      z.iso.datetime({ offset: true }).transform((iso) => new Date(iso)),
    )
    .optional()
    .describe(
      'Start time for initialPosition AT_TIMESTAMP, an ISO 8601 date-time with Z or an offset (2026-11-29T00:00:00Z); required with it, ignored otherwise.',
    ),
  maxRecordsPerCall: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(10_000)
    .describe('Most records a GetRecords call returns (Kinesis allows up to 10,000).'),
  minPollIntervalMs: z
    .number()
    .int()
    .min(200)
    .default(200)
    .describe(
      'Least time between two GetRecords calls on one shard; Kinesis allows 5 calls per second per shard.',
    ),
  idleTimeBetweenReadsMs: z
    .number()
    .int()
    .min(200)
    .max(10_000)
    .default(500)
    .describe('Pause after a GetRecords call that returned nothing and was not behind the tip of the shard.'),
  backoffBaseMs: z
    .number()
    .int()
    .min(1)
    .default(100)
    .describe(
      'First back-off after a throttled or failed Kinesis call; it doubles per failure, with full jitter.',
    ),
  backoffMaxMs: z
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('Longest back-off between retries of a failed Kinesis call or checkpoint write.'),
  parentPollIntervalMs: z
    .number()
    .int()
    .min(10)
    .default(1_000)
    .describe('How often a child shard checks whether its parent shards have reached SHARD_END.'),
  shardSyncIntervalMs: z
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('How often the shard list is read again to find shards created by a split or merge.'),
  streamActiveTimeoutMs: z
    .number()
    .int()
    .min(0)
    .default(60_000)
    .describe('How long start() waits for the stream to exist and be ACTIVE before failing.'),
};

type Fields = {
  initialPosition: string;
  initialTimestamp?: Date;
  backoffBaseMs: number;
  backoffMaxMs: number;
};

/** Cross-field rules, shared by every schema that embeds the consumer's fields. */
export const checkStreamConsumerFields = (config: Fields, ctx: z.RefinementCtx): void => {
  if (config.initialPosition === 'AT_TIMESTAMP' && config.initialTimestamp === undefined) {
    ctx.addIssue({
      code: 'custom',
      message:
        'required with initialPosition AT_TIMESTAMP; add an ISO 8601 date-time such as 2026-11-29T00:00:00Z',
      path: ['initialTimestamp'],
    });
  }
  if (config.backoffMaxMs < config.backoffBaseMs) {
    ctx.addIssue({
      code: 'custom',
      message: `must be at least backoffBaseMs (${config.backoffBaseMs}); raise it or lower backoffBaseMs`,
      path: ['backoffMaxMs'],
    });
  }
};

export const streamConsumerConfigSchema = z
  .object(streamConsumerFields)
  .strict()
  .superRefine(checkStreamConsumerFields);

export type StreamConsumerConfig = z.output<typeof streamConsumerConfigSchema>;
export type StreamConsumerConfigInput = z.input<typeof streamConsumerConfigSchema>;
