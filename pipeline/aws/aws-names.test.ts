import { describe, expect, it } from 'vitest';
import { AwsRegion, bucketNameProblem, regionProblem, S3BucketName } from './aws-names.ts';

describe('regionProblem', () => {
  it.each([
    'us-east-1',
    'eu-west-1',
    'eu-central-2',
    'ap-southeast-7',
    'il-central-1',
    'mx-central-1',
    'ca-west-1',
    'us-gov-west-1',
    'cn-north-1',
    'cn-northwest-1',
    'us-iso-east-1',
    'us-isob-east-1',
    'eu-isoe-west-1',
    'us-isof-south-1',
    'eusc-de-east-1',
  ])('takes %s', (region) => {
    expect(regionProblem(region)).toBeUndefined();
  });

  it.each([
    ['eu-westt-1', 'eu-west-1'],
    ['EU_WEST_1', 'eu-west-1'],
    ['euwest1', 'eu-west-1'],
    ['us-east1', 'us-east-1'],
    [' us-east-1', 'us-east-1'],
    ['us-gov-wset-1', 'us-gov-west-1'],
  ])('refuses %s, suggesting %s', (region, guess) => {
    expect(regionProblem(region)).toBe(
      `${JSON.stringify(region)} is not an AWS region code (did you mean "${guess}"?); write it like eu-west-1, us-east-2, us-gov-west-1 or cn-north-1`,
    );
  });

  it.each(['mars', '', 'eu-west', 'europe-west1', 'eu-west-1a', 'aws-global', 'local'])(
    'refuses %j without a guess',
    (region) => {
      expect(regionProblem(region)).toMatch(/is not an AWS region code; write it like eu-west-1/);
    },
  );

  it('is the check of the AwsRegion schema', () => {
    expect(AwsRegion.safeParse('eu-west-1').success).toBe(true);
    expect(AwsRegion.safeParse('eu-westt-1').error?.issues[0]?.message).toMatch(/did you mean "eu-west-1"/);
  });
});

describe('bucketNameProblem', () => {
  it.each([
    'acme-api-logs',
    'abc',
    'a'.repeat(63),
    'logs.example.com',
    '1-numbers-first',
    'amzn-s3-bucket',
    'shardline-111122223333-eu-west-1-an',
  ])('takes %s', (bucket) => {
    expect(bucketNameProblem(bucket)).toBeUndefined();
  });

  it.each([
    ['ab', 'it has 2 characters; use 3 to 63', 'acme-api-logs'],
    ['a'.repeat(64), 'it has 64 characters; use 3 to 63', 'a'.repeat(63)],
    [
      'my/bucket',
      'it contains "/"; use only lowercase letters, digits, dots (.) and hyphens (-)',
      'my-bucket',
    ],
    ['my_bucket', 'it contains "_"', 'my-bucket'],
    ['Acme-Logs', 'it has uppercase letters; use lowercase letters only', 'acme-logs'],
    ['-acme-logs', 'it must begin and end with a letter or digit', 'acme-logs'],
    ['acme-logs.', 'it must begin and end with a letter or digit', 'acme-logs'],
    ['acme..logs', 'it contains two adjacent dots', 'acme.logs'],
    ['192.168.5.4', 'it is formatted as an IP address', 'acme-api-logs'],
    ['xn--acme', 'the prefix "xn--" is reserved', 'acme-api-logs'],
    ['sthree-logs', 'the prefix "sthree-" is reserved by S3', 'acme-api-logs'],
    ['sthree-configurator', 'the prefix "sthree-" is reserved by S3', 'acme-api-logs'],
    ['amzn-s3-demo-bucket', 'the prefix "amzn-s3-demo-" is reserved', 'acme-api-logs'],
    ['logs-s3alias', 'the suffix "-s3alias" is reserved for access point aliases', 'acme-api-logs'],
    ['logs--ol-s3', 'the suffix "--ol-s3" is reserved', 'acme-api-logs'],
    ['logs.mrap', 'the suffix ".mrap" is reserved for Multi-Region Access Points', 'acme-api-logs'],
    ['logs--usw2-az1--x-s3', 'the suffix "--x-s3" is reserved for directory buckets', 'acme-api-logs'],
    ['logs--table-s3', 'the suffix "--table-s3" is reserved for table buckets', 'acme-api-logs'],
    ['logs-an', 'the suffix "-an" is only for the account regional namespace', 'acme-api-logs'],
  ])('refuses %s: %s', (bucket, rule, example) => {
    const problem = bucketNameProblem(bucket);
    expect(problem).toContain(`${JSON.stringify(bucket)} is not a valid S3 bucket name: ${rule}`);
    expect(problem).toContain(`for example "${example}"`);
    expect(bucketNameProblem(example)).toBeUndefined();
  });

  it('is the check of the S3BucketName schema', () => {
    expect(S3BucketName.safeParse('acme-api-logs').success).toBe(true);
    expect(S3BucketName.safeParse('my/bucket').error?.issues[0]?.message).toMatch(/for example "my-bucket"/);
  });
});
