import { describe, expect, it } from 'vitest';
import { streamConsumerConfigSchema } from './stream-consumer-config.ts';

describe('streamConsumerConfigSchema', () => {
  it('fills defaults that respect Kinesis limits', () => {
    // Act
    const config = streamConsumerConfigSchema.parse({});

    // Assess
    expect(config).toMatchObject({
      initialPosition: 'TRIM_HORIZON',
      maxRecordsPerCall: 10_000,
      minPollIntervalMs: 200,
    });
  });

  it.each([
    [{ initialPosition: 'AT_TIMESTAMP' }, 'initialTimestamp'],
    [{ minPollIntervalMs: 100 }, 'minPollIntervalMs'],
    [{ maxRecordsPerCall: 10_001 }, 'maxRecordsPerCall'],
    [{ backoffBaseMs: 500, backoffMaxMs: 100 }, 'backoffMaxMs'],
    [{ idleTimeBetweenReads: 300 }, ''],
  ])('rejects %o, naming %s', (input, field) => {
    // Act
    const result = streamConsumerConfigSchema.safeParse(input);

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(field);
  });

  it('takes an ISO time for AT_TIMESTAMP', () => {
    // Act
    const config = streamConsumerConfigSchema.parse({
      initialPosition: 'AT_TIMESTAMP',
      initialTimestamp: '2025-01-15T10:00:00Z',
    });

    // Assess
    expect(config.initialTimestamp?.toISOString()).toBe('2025-01-15T10:00:00.000Z');
  });

  it('takes back the Date it produced, as the CLI passes its parsed config on', () => {
    // Prepare
    const initialTimestamp = new Date('2025-01-15T10:00:00Z');

    // Act
    const config = streamConsumerConfigSchema.parse({ initialPosition: 'AT_TIMESTAMP', initialTimestamp });

    // Assess
    expect(config.initialTimestamp).toEqual(initialTimestamp);
  });

  it.each(['yesterday', '2025-01-15T10:00:00', '2025-01-15', 1_736_935_200_000])(
    'refuses %s as a start time: a date-time with Z or an offset is unambiguous',
    (initialTimestamp) => {
      // Act
      const result = streamConsumerConfigSchema.safeParse({
        initialPosition: 'AT_TIMESTAMP',
        initialTimestamp,
      });

      // Assess
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(['initialTimestamp']);
    },
  );
});
