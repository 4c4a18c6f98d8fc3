import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AwsRegion } from '../../pipeline/aws/aws-names.ts';
import { PipelineConfig } from '../../pipeline/config.ts';
import { configJsonFromEnv, parseConfig } from '../../pipeline/config-errors.ts';
import { ConfigError } from '../../pipeline/errors.ts';
import { LeaseConfig } from '../leases/lease-config.ts';
import { checkStreamConsumerFields, streamConsumerFields } from '../stream-consumer-config.ts';

/**
 * `shardline consume --config <file>`: which stream to read, where checkpoints live, and the
 * pipeline and warehouse settings. JSON; every key is checked, unknown keys are errors.
 *
 * @example
 * { "stream": { "name": "api-logs", "region": "eu-west-1" },
 *   "lake": { "type": "s3", "bucket": "acme-api-logs", "prefix": "shardline/" } }
 */

export const StreamConfig = z
  .object({
    name: z.string().min(1).max(128).describe('Kinesis data stream name.'),
    region: AwsRegion.default('us-east-1').describe('AWS region of the stream, e.g. `eu-west-1`.'),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe('Kinesis API endpoint; omit for AWS. Local stack: http://127.0.0.1:4567.'),
    ...streamConsumerFields,
  })
  .strict()
  .superRefine(checkStreamConsumerFields);

export const FileCheckpointConfig = z
  .object({
    type: z.literal('file').default('file').describe('Where shard checkpoints are kept (one process).'),
    path: z.string().min(1).default('.shardline/checkpoints.json').describe('Checkpoint file.'),
  })
  .strict();

export const CheckpointConfig = z
  .discriminatedUnion('type', [FileCheckpointConfig, LeaseConfig])
  .describe(
    '`file`: one process reads every shard. `dynamodb`: shard leases shared by many workers (processes, machines).',
  );

export const MetricsConfig = z
  .object({
    port: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .optional()
      .describe(
        'Serve Prometheus metrics on /metrics and health on /health; 0 = any free port; omit for none.',
      ),
    host: z.string().min(1).default('127.0.0.1').describe('Interface to listen on; 0.0.0.0 for every one.'),
    failingAfterMs: z
      .number()
      .int()
      .min(1_000)
      .default(30_000)
      .describe(
        '/health answers 503 once landing (S3, disk), Kinesis or the lease table has failed for this long without a success. Long enough to ride out a throttling burst or a brief S3 error spike.',
      ),
    stallAfterMs: z
      .number()
      .int()
      .min(1_000)
      .default(60_000)
      .describe(
        "/health answers 503 when a shard's oldest record not yet landed has waited this long (a stuck shard). Keep it well above `batch.maxAgeMs`.",
      ),
  })
  .strict();

export const WarehouseConfig = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('duckdb'),
        file: z.string().min(1).default('.shardline/warehouse.duckdb').describe('DuckDB database file.'),
        loadIntervalMs: z
          .number()
          .int()
          .min(100)
          .default(1_000)
          .describe('How often new Parquet files are loaded, as a SingleStore pipeline batch interval.'),
      })
      .strict(),
    z.object({ type: z.literal('none') }).strict(),
  ])
  .describe('The embedded warehouse loaded from the lake; `none` when SingleStore loads it.');

export const ConsumeConfig = z
  .object({
    stream: StreamConfig,
    checkpoints: CheckpointConfig.default(FileCheckpointConfig.parse({})),
    metrics: MetricsConfig.default(MetricsConfig.parse({})),
    warehouse: WarehouseConfig.default({
      type: 'duckdb',
      file: '.shardline/warehouse.duckdb',
      loadIntervalMs: 1_000,
    }),
  })
  .extend(PipelineConfig.shape)
  .strict();

export type ConsumeConfig = z.infer<typeof ConsumeConfig>;

export const parseConsumeConfig = (value: unknown, source = 'config'): ConsumeConfig =>
  parseConfig(ConsumeConfig, value, source);

export const loadConsumeConfig = (file: string): ConsumeConfig => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('--config', `cannot read ${file}: check the path`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('--config', `${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseConsumeConfig(json, file);
};

/** Where a container's config comes from when no file is given: the JSON itself (ECS task definition). */
export const CONFIG_ENV = 'SHARDLINE_CONFIG';

/** The config in `$SHARDLINE_CONFIG`, checked like a file; undefined when the variable is unset or blank. */
export const consumeConfigFromEnv = (): ConsumeConfig | undefined => {
  const json = configJsonFromEnv(CONFIG_ENV);
  return json === undefined ? undefined : parseConsumeConfig(json, CONFIG_ENV);
};
