import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { StreamNotActiveError } from '../errors.ts';

export interface EnsureStreamOptions {
  /** How long to wait for ACTIVE; kinesalite started by the local stack is ACTIVE at once. */
  readonly timeoutMs?: number;
}

/**
 * Creates the stream with `shardCount` shards unless it exists, then waits until it is ACTIVE.
 * An existing stream is left as it is, whatever its shard count. Resolves whether it was created.
 */
export async function ensureStream(
  client: KinesisClient,
  streamName: string,
  shardCount: number,
  options: EnsureStreamOptions = {},
): Promise<{ created: boolean }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let created = false;
  for (;;) {
    let status: string | undefined;
    try {
      const { StreamDescriptionSummary } = await client.send(
        new DescribeStreamSummaryCommand({ StreamName: streamName }),
      );
      status = StreamDescriptionSummary?.StreamStatus;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
      try {
        await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
        created = true;
      } catch (createError) {
        // Another process created it first: fine, wait for it like for ours.
        if ((createError as { name?: string }).name !== 'ResourceInUseException') throw createError;
      }
    }
    if (status === 'ACTIVE') return { created };
    if (Date.now() >= deadline) {
      throw new StreamNotActiveError(
        streamName,
        `stream "${streamName}" is ${status ?? 'not there'} after ${timeoutMs} ms; check the Kinesis endpoint, or wait longer`,
      );
    }
    await delay(50);
  }
}
