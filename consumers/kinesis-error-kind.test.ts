import { describe, expect, it } from 'vitest';
import { kinesisErrorKind } from './kinesis-error-kind.ts';
import { kinesisError } from './testing/fake-kinesis.ts';

describe('kinesisErrorKind', () => {
  it.each([
    ['ExpiredIteratorException', 400, 'expired_iterator'],
    ['ProvisionedThroughputExceededException', 400, 'throttled'],
    ['LimitExceededException', 400, 'throttled'],
    ['KMSThrottlingException', 400, 'throttled'],
    ['SomethingNew', 429, 'throttled'],
    ['InternalFailure', 500, 'transient'],
    ['ServiceUnavailable', 503, 'transient'],
    ['ResourceNotFoundException', 404, 'rejected'],
    ['AccessDeniedException', 400, 'rejected'],
    ['InvalidArgumentException', 400, 'rejected'],
  ])('classifies %s (HTTP %i) as %s', (name, status, kind) => {
    // Prepare
    const error = kinesisError(name, status);

    // Act
    const result = kinesisErrorKind(error);

    // Assess
    expect(result).toBe(kind);
  });

  it('treats network failures as transient', () => {
    // Prepare
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const timeout = Object.assign(new Error('timed out'), { name: 'TimeoutError' });

    // Act
    const kinds = [kinesisErrorKind(reset), kinesisErrorKind(timeout)];

    // Assess
    expect(kinds).toEqual(['transient', 'transient']);
  });
});
