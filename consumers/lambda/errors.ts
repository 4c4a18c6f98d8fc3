import { ShardlineError } from '../../pipeline/errors.ts';

/**
 * Errors of the Lambda consumer. Landing failures never surface here: they are reported to
 * Lambda as `batchItemFailures`, and Lambda retries from the first record that did not land.
 */

/**
 * The invocation is not a Kinesis event as Lambda's event source mapping sends it. Not
 * retriable: the same event fails the same way; check the trigger (an SQS or API Gateway event
 * sent to this function) or the test that built it.
 */
export class KinesisEventError extends ShardlineError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(`lambda: ${message}`, { ...options, retriable: false });
    this.name = 'KinesisEventError';
  }
}
