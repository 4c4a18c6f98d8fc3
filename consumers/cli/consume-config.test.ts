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
      /checkpoints\.type: must be one of "file", "dynamodb", got "dynamo" \(did you mean "dynamodb"\?\)/,
    );
  });

  const s3Lake = { type: 's3', bucket: 'acme-api-logs' };

  it.each([
    {
      case: 'an S3 bucket name with a slash',
      config: { stream: { name: 'x' }, lake: { ...s3Lake, bucket: 'my/bucket' } },
      field: 'lake.bucket',
      says: [
        'lake.bucket: "my/bucket" is not a valid S3 bucket name',
        'use only lowercase letters, digits, dots (.) and hyphens (-)',
        'for example "my-bucket"',
      ],
    },
    {
      case: 'a misspelt stream region',
      config: { stream: { name: 'x', region: 'eu-westt-1' } },
      field: 'stream.region',
      says: [
        'stream.region: "eu-westt-1" is not an AWS region code (did you mean "eu-west-1"?)',
        'eu-west-1',
      ],
    },
    {
      case: 'a region in the wrong case',
      config: { stream: { name: 'x' }, lake: { ...s3Lake, region: 'EU_WEST_1' } },
      field: 'lake.region',
      says: ['lake.region: "EU_WEST_1" is not an AWS region code (did you mean "eu-west-1"?)'],
    },
    {
      case: 'a lease table region that is no region',
      config: { stream: { name: 'x' }, checkpoints: { type: 'dynamodb', region: 'mars' } },
      field: 'checkpoints.region',
      says: ['checkpoints.region: "mars" is not an AWS region code; write it like eu-west-1'],
    },
    {
      case: 'a start time that is not a date-time',
      config: { stream: { name: 'x', initialPosition: 'AT_TIMESTAMP', initialTimestamp: 'yesterday' } },
      field: 'stream.initialTimestamp',
      says: [
        'stream.initialTimestamp: expected an ISO 8601 date-time such as 2026-11-29T00:00:00Z',
        'got "yesterday"',
      ],
    },
    {
      case: 'a missing required key',
      config: { stream: { region: 'eu-west-1' } },
      field: 'stream.name',
      says: ['stream.name: required; add it (Kinesis data stream name)'],
    },
    {
      case: 'a misspelt top-level key',
      config: { stream: { name: 'x' }, lakes: s3Lake },
      field: 'lakes',
      says: ['top level: unknown key "lakes" (did you mean "lake"?)'],
    },
    {
      case: 'a misspelt key inside the chosen lake',
      config: { stream: { name: 'x' }, lake: { ...s3Lake, regoin: 'eu-west-1' } },
      field: 'lake.regoin',
      says: ['lake: unknown key "regoin" (did you mean "region"?)'],
    },
    {
      case: 'a nested key that resembles none',
      config: { stream: { name: 'x', shardz: 4 } },
      field: 'stream.shardz',
      says: ['stream: unknown key "shardz"; remove it (keys allowed here: name, region, endpoint,'],
    },
    {
      case: 'a number above its range',
      config: { stream: { name: 'x' }, metrics: { port: 70_000 } },
      field: 'metrics.port',
      says: ['metrics.port: must be at most 65535, got 70000'],
    },
    {
      case: 'a number below its range',
      config: { stream: { name: 'x', minPollIntervalMs: 100 } },
      field: 'stream.minPollIntervalMs',
      says: ['stream.minPollIntervalMs: must be at least 200, got 100'],
    },
    {
      case: 'a number written as a string',
      config: { stream: { name: 'x' }, batch: { maxAgeMs: '5000' } },
      field: 'batch.maxAgeMs',
      says: ['batch.maxAgeMs: expected a number, got "5000"; write it without quotes'],
    },
    {
      case: 'a fraction where a whole number belongs',
      config: { stream: { name: 'x', maxRecordsPerCall: 2.5 } },
      field: 'stream.maxRecordsPerCall',
      says: ['stream.maxRecordsPerCall: expected a whole number, got 2.5'],
    },
    {
      case: 'a string where a section belongs',
      config: { stream: { name: 'x' }, batch: 'big' },
      field: 'batch',
      says: ['batch: expected an object ({ … }), got "big"'],
    },
    {
      case: 'an enum value with a typo',
      config: { stream: { name: 'x', initialPosition: 'LATES' } },
      field: 'stream.initialPosition',
      says: ['must be one of "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", got "LATES" (did you mean "LATEST"?)'],
    },
    {
      case: 'an unknown lake type',
      config: { stream: { name: 'x' }, lake: { type: 'gcs' } },
      field: 'lake.type',
      says: ['lake.type: must be one of "local", "s3", got "gcs"'],
    },
    {
      case: 'a lake without a type',
      config: { stream: { name: 'x' }, lake: { bucket: 'acme-api-logs' } },
      field: 'lake.type',
      says: ['lake.type: required; set it to one of "local", "s3"'],
    },
    {
      case: 'an unknown warehouse type',
      config: { stream: { name: 'x' }, warehouse: { type: 'snowflake' } },
      field: 'warehouse.type',
      says: ['warehouse.type: must be one of "duckdb", "none", got "snowflake"'],
    },
    {
      case: 'a value of the wrong kind in a union',
      config: { stream: { name: 'x' }, enrich: { geoIp: 3 } },
      field: 'enrich.geoIp',
      says: ['enrich.geoIp: expected true, false or a string, got 3'],
    },
    {
      case: 'a config that is not an object',
      config: [],
      field: 'top level',
      says: ['top level: expected an object ({ … }), got a list'],
    },
  ])('says what to fix for $case', ({ config, field, says }) => {
    // Act
    let error: unknown;
    try {
      parseConsumeConfig(config, 'shardline.json');
    } catch (thrown) {
      error = thrown;
    }

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
    const message = (error as ConfigError).message;
    expect(message).toContain('shardline.json is invalid:');
    for (const fragment of says) expect(message).toContain(fragment);
    expect(message).not.toMatch(/received|Invalid input/);
  });

  it('lists every broken field, one line each', () => {
    // Act
    const act = () =>
      parseConsumeConfig({
        stream: { nmae: 'api-logs', region: 'mars' },
        lake: { type: 's3', bucket: 'Logs' },
      });

    // Assess
    expect(act).toThrow(
      [
        'config is invalid:',
        '  stream.name: required; add it (Kinesis data stream name)',
        '  stream.region: "mars" is not an AWS region code; write it like eu-west-1, us-east-2, us-gov-west-1 or cn-north-1',
        '  stream: unknown key "nmae" (did you mean "name"?)',
        '  lake.bucket: "Logs" is not a valid S3 bucket name: it has uppercase letters; use lowercase letters only; for example "logs"',
        'Fix the fields above and start again.',
      ].join('\n'),
    );
  });

  it('takes real regions of every partition and a local endpoint with any region code', () => {
    for (const region of [
      'us-gov-west-1',
      'cn-north-1',
      'us-iso-east-1',
      'ap-southeast-7',
      'eusc-de-east-1',
    ]) {
      expect(parseConsumeConfig({ stream: { name: 'x', region } }).stream.region).toBe(region);
    }
    const local = parseConsumeConfig({
      stream: { name: 'x', region: 'ap-south-9', endpoint: 'http://127.0.0.1:4567' },
      lake: { type: 's3', bucket: 'lake', region: 'us-west-9', endpoint: 'http://127.0.0.1:4568' },
    });
    expect(local.lake).toMatchObject({ bucket: 'lake', region: 'us-west-9' });
  });

  it('keeps an ISO start time with an offset, as a Date', () => {
    const config = parseConsumeConfig({
      stream: { name: 'x', initialPosition: 'AT_TIMESTAMP', initialTimestamp: '2026-11-29T01:00:00+01:00' },
    });
    expect(config.stream.initialTimestamp?.toISOString()).toBe('2026-11-29T00:00:00.000Z');
  });
});
