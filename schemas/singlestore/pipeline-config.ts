import { z } from 'zod';

const IDENT = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * How SingleStore reaches the lake. Never access keys in a file: either an IAM role SingleStore
 * assumes (`role`, the way for SingleStore Helios), the credentials of the machines SingleStore
 * runs on (`instance`: EC2 instance profile / EKS service account, an empty CREDENTIALS), or keys
 * read from the environment of the process that runs `shardline warehouse init` (`env`).
 */
export const PipelineCredentials = z
  .discriminatedUnion('type', [
    z
      .object({
        type: z.literal('role'),
        roleArn: z
          .string()
          .regex(
            /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
            'an IAM role ARN: arn:aws:iam::<account>:role/<name>',
          )
          .describe('Role SingleStore assumes to read the bucket (see schemas/README.md for its policy).'),
      })
      .strict(),
    z.object({ type: z.literal('instance') }).strict(),
    z
      .object({
        type: z.literal('env'),
        accessKeyIdVar: z.string().default('SHARDLINE_S3_ACCESS_KEY_ID'),
        secretAccessKeyVar: z.string().default('SHARDLINE_S3_SECRET_ACCESS_KEY'),
        sessionTokenVar: z.string().default('SHARDLINE_S3_SESSION_TOKEN'),
      })
      .strict(),
  ])
  .describe('How SingleStore authenticates to S3; never keys written in a file.');
export type PipelineCredentials = z.infer<typeof PipelineCredentials>;

/**
 * The SingleStore S3 pipeline that loads the lake's `requests/` Parquet files. Example:
 * `{ "bucket": "acme-api-logs", "prefix": "shardline/", "region": "eu-west-1",
 *    "credentials": { "type": "role", "roleArn": "arn:aws:iam::123456789012:role/shardline-singlestore" } }`
 */
export const PipelineConfig = z
  .object({
    name: z
      .string()
      .regex(IDENT, 'lower-case letters, digits and _, starting with a letter')
      .default('shardline_requests')
      .describe('Pipeline name in SingleStore.'),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
      .describe('Bucket of the lake (the `lake.bucket` of `shardline consume`).'),
    prefix: z
      .string()
      .regex(/^([\w.=-]+\/)*$/, 'empty, or folders ending in /, e.g. "shardline/"')
      .default('')
      .describe(
        'Lake prefix (the `lake.prefix` of `shardline consume`); the pipeline reads `<prefix>requests/`.',
      ),
    region: z.string().min(1).describe('AWS region of the bucket.'),
    endpoint: z.string().url().optional().describe('S3-compatible endpoint (MinIO, …); omit for AWS S3.'),
    credentials: PipelineCredentials,
    batchIntervalMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(1_000)
      .describe(
        'Time between checks for new files. Files whose key sorts last are loaded by the next batch, so freshness is this plus the load time; lower costs S3 LIST calls (2-3 per batch).',
      ),
    maxRetriesPerBatchPartition: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe('Attempts at a failing file before it is marked Skipped and the pipeline moves on.'),
  })
  .strict();
export type PipelineConfig = z.infer<typeof PipelineConfig>;
