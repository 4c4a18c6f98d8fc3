import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../pipeline/errors.ts';
import { parseConsumeConfig } from './consume-config.ts';

describe('consume config', () => {
  it('fills every default from a minimal config', () => {
    const config = parseConsumeConfig({ stream: { name: 'api-logs' } });
    expect(config.stream.initialPosition).toBe('TRIM_HORIZON');
    expect(config.batch.maxAgeMs).toBe(5_000);
    expect(config.lake).toEqual({ type: 'local', dir: '.shardline/lake' });
    expect(config.warehouse.type).toBe('duckdb');
  });

  it('names the field and the fix when a value is wrong', () => {
    const act = () => parseConsumeConfig({ stream: { name: 'x' }, batch: { maxAgeMs: 'soon' } }, 'my.json');
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(/batch\.maxAgeMs/);
  });

  it('rejects unknown keys, as a typo would otherwise be ignored silently', () => {
    expect(() => parseConsumeConfig({ stream: { name: 'x', shardz: 4 } })).toThrow(/stream/);
  });

  it('asks for a timestamp when starting AT_TIMESTAMP', () => {
    expect(() => parseConsumeConfig({ stream: { name: 'x', initialPosition: 'AT_TIMESTAMP' } })).toThrow(
      /stream\.initialTimestamp/,
    );
  });

  it('takes DynamoDB lease settings, with KCL-like defaults', () => {
    const config = parseConsumeConfig({ stream: { name: 'x' }, checkpoints: { type: 'dynamodb' } });
    expect(config.checkpoints).toEqual({
      type: 'dynamodb',
      failoverTimeMs: 10_000,
      renewalIntervalMs: 2_000,
      maxLeasesToStealAtOneTime: 1,
    });
  });

  it('refuses a renewal interval that is not well under the failover time', () => {
    const act = () =>
      parseConsumeConfig({
        stream: { name: 'x' },
        checkpoints: { type: 'dynamodb', failoverTimeMs: 3_000, renewalIntervalMs: 1_500 },
      });
    expect(act).toThrow(/renewalIntervalMs/);
    expect(act).toThrow(/at most 1000 ms/);
  });
  it('names the field inside the chosen checkpoint store', () => {
    const act = () =>
      parseConsumeConfig({
        stream: { name: 'x' },
        checkpoints: { type: 'dynamodb', failoverTimeMs: '10000' },
      });
    expect(act).toThrow(/checkpoints\.failoverTimeMs/);
    expect(() => parseConsumeConfig({ stream: { name: 'x' }, checkpoints: { type: 'dynamo' } })).toThrow(
      /checkpoints\.type.*'dynamodb'/,
    );
  });
});
