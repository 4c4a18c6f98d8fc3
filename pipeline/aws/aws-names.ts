import { z } from 'zod';
import { closestName } from '../config-errors.ts';

/**
 * AWS names checked when a config is loaded. Without these checks a bad bucket name makes the
 * sink retry S3's InvalidBucketName forever, and a misspelt region surfaces only as a connection
 * timeout a minute later, naming no field.
 */

const DIRECTIONS = [
  'north',
  'south',
  'east',
  'west',
  'central',
  'northeast',
  'northwest',
  'southeast',
  'southwest',
] as const;

/**
 * Region codes of every partition: aws (eu-central-2, il-central-1, mx-central-1), aws-cn
 * (cn-north-1), aws-us-gov (us-gov-west-1), aws-iso* (us-iso-east-1, us-isob-east-1,
 * eu-isoe-west-1) and aws-eusc (eusc-de-east-1). The direction is spelt out, unlike in the SDK's
 * partition patterns, so that "eu-westt-1" fails here. Local endpoints take any such code.
 */
const AREA = '[a-z]{2}(?:-gov|-iso[a-z]?)?|eusc-[a-z]{2}';
const REGION = new RegExp(`^(?:${AREA})-(?:${DIRECTIONS.join('|')})-\\d{1,2}$`);
const REGION_PARTS = new RegExp(`^(${AREA})-?([a-z]+)-?(\\d+)$`);

const regionGuess = (region: string): string | undefined => {
  const normal = region
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
  if (REGION.test(normal)) return normal;
  const parts = REGION_PARTS.exec(normal);
  if (!parts) return undefined;
  const [, area, direction = '', number] = parts;
  const nearest = closestName(direction, DIRECTIONS);
  const guess = nearest && `${area}-${nearest}-${number}`;
  return guess && REGION.test(guess) ? guess : undefined;
};

/** Why `region` is not an AWS region code, or undefined when it is one. */
export const regionProblem = (region: string): string | undefined => {
  if (REGION.test(region)) return undefined;
  const guess = regionGuess(region);
  const hint = guess && guess !== region ? ` (did you mean "${guess}"?)` : '';
  return `${JSON.stringify(region)} is not an AWS region code${hint}; write it like eu-west-1, us-east-2, us-gov-west-1 or cn-north-1`;
};

const IP_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;
const RESERVED_PREFIXES: Record<string, string> = {
  'xn--': 'reserved for internationalised domain names',
  'sthree-': 'reserved by S3',
  'amzn-s3-demo-': 'reserved for AWS documentation examples',
};
const RESERVED_SUFFIXES: Record<string, string> = {
  '-s3alias': 'reserved for access point aliases',
  '--ol-s3': 'reserved for Object Lambda access point aliases',
  '.mrap': 'reserved for Multi-Region Access Points',
  // The lake's file order relies on ListObjectsV2 returning keys sorted, which these do not do.
  '--x-s3':
    'reserved for directory buckets, which list keys unsorted; the lake needs a general purpose bucket',
  '--table-s3': 'reserved for table buckets',
};
// Account regional namespace: <prefix>-<12-digit account id>-<region>-an.
const ACCOUNT_REGIONAL = /-(\d{12})-([a-z0-9-]+)-an$/;

const brokenBucketRule = (name: string): string | undefined => {
  if (name.length < 3 || name.length > 63) return `it has ${name.length} characters; use 3 to 63`;
  const bad = /[^a-z0-9.-]/.exec(name)?.[0];
  if (bad !== undefined) {
    return /[A-Z]/.test(bad)
      ? 'it has uppercase letters; use lowercase letters only'
      : `it contains ${JSON.stringify(bad)}; use only lowercase letters, digits, dots (.) and hyphens (-)`;
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name))
    return 'it must begin and end with a letter or digit';
  if (name.includes('..')) return 'it contains two adjacent dots';
  if (IP_ADDRESS.test(name)) return 'it is formatted as an IP address';
  for (const [prefix, why] of Object.entries(RESERVED_PREFIXES)) {
    if (name.startsWith(prefix)) return `the prefix "${prefix}" is ${why}`;
  }
  for (const [suffix, why] of Object.entries(RESERVED_SUFFIXES)) {
    if (name.endsWith(suffix)) return `the suffix "${suffix}" is ${why}`;
  }
  if (name.endsWith('-an')) {
    const parts = ACCOUNT_REGIONAL.exec(name);
    if (!parts || regionProblem(parts[2] ?? '') !== undefined) {
      return 'the suffix "-an" is only for the account regional namespace: <prefix>-<12-digit account id>-<region>-an';
    }
  }
  return undefined;
};

const bucketGuess = (name: string): string | undefined => {
  const guess = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 63)
    .replace(/[^a-z0-9]+$/, '');
  return brokenBucketRule(guess) === undefined ? guess : undefined;
};

/** Which S3 general purpose bucket naming rule `name` breaks, with a valid name; undefined if none. */
export const bucketNameProblem = (name: string): string | undefined => {
  const rule = brokenBucketRule(name);
  if (rule === undefined) return undefined;
  const example = bucketGuess(name) ?? 'acme-api-logs';
  return `${JSON.stringify(name)} is not a valid S3 bucket name: ${rule}; for example "${example}"`;
};

const checkedBy =
  (problem: (value: string) => string | undefined) =>
  (value: string, ctx: z.RefinementCtx): void => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: value });
  };

/** An AWS region code such as `eu-west-1`, checked against the pattern of every partition. */
export const AwsRegion = z.string().superRefine(checkedBy(regionProblem));

/** An S3 general purpose bucket name, checked against S3's naming rules. */
export const S3BucketName = z.string().superRefine(checkedBy(bucketNameProblem));
