import { z } from 'zod';
import { AwsRegion } from '../../pipeline/aws/aws-names.ts';

/**
 * `checkpoints: { "type": "dynamodb" }`: shard leases and checkpoints in a DynamoDB table, shared
 * by every worker of the stream. The table is created on first start if it is missing.
 *
 * @example
 * { "type": "dynamodb", "table": "shardline-leases-api-logs", "failoverTimeMs": 10000, "renewalIntervalMs": 2000 }
 */
export const LeaseConfig = z
  .object({
    type: z.literal('dynamodb'),
    table: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'use 3-255 letters, digits, "_", "-" or "."')
      .optional()
      .describe('Lease table name; default `shardline-leases-<stream name>`. One table per stream.'),
    region: AwsRegion.optional().describe(
      'AWS region of the table, e.g. `eu-west-1`; default the stream region.',
    ),
    endpoint: z
      .string()
      .url()
      .optional()
      .describe('DynamoDB endpoint; omit for AWS. `shardline dev` uses a local dynalite.'),
    workerId: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        'This worker in the lease table; `--worker-id` overrides it. Default `<host>-<pid>`. Keep it stable across restarts to take back its own leases at once.',
      ),
    failoverTimeMs: z
      .number()
      .int()
      .min(300)
      .default(10_000)
      .describe(
        'A lease not renewed for this long is taken over by another worker: the longest a dead worker leaves its shards unread.',
      ),
    renewalIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(2_000)
      .describe(
        'How often a worker renews its leases and scans the table for leases to take; at most a third of failoverTimeMs.',
      ),
    maxLeasesToStealAtOneTime: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe(
        'Most leases a worker takes from the most loaded worker per scan, so that load moves gradually.',
      ),
  })
  .strict()
  .superRefine((config, ctx) => {
    // A renewal delayed by one slow call must not let the lease expire under a live worker.
    if (config.renewalIntervalMs * 3 > config.failoverTimeMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['renewalIntervalMs'],
        message: `must be at most a third of failoverTimeMs (${config.failoverTimeMs} ms → at most ${Math.floor(config.failoverTimeMs / 3)} ms); lower it or raise failoverTimeMs`,
      });
    }
  });

export type LeaseConfig = z.infer<typeof LeaseConfig>;
