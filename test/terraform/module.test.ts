// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are Terraform interpolations, as hcl2json returns them
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Block, blocks, loadModule, type Module, strings } from './hcl.ts';

/**
 * The Terraform module, parsed (hcl2json, offline): what it creates and the security properties
 * a reviewer would check by hand. `terraform validate` and `plan` need the AWS provider, which
 * this machine cannot download: validate.test.ts runs them where it can.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const DIR = join(ROOT, 'terraform');

let mod: Module;
let example: Module;

beforeAll(async () => {
  mod = await loadModule(DIR);
  example = await loadModule(join(DIR, 'examples/complete'));
});

const resource = (type: string, name: string): Block => {
  const body = mod.resource[type]?.[name];
  if (body === undefined) throw new Error(`terraform/: no resource ${type}.${name}`);
  return body;
};
const policy = (name: string): Block[] => blocks(mod.data.aws_iam_policy_document?.[name], 'statement');
const allows = (statements: Block[]) => statements.filter((s) => s.effect !== 'Deny');

describe('terraform module: layout', () => {
  it('is split by service, with versions, variables and outputs', () => {
    expect(mod.files).toEqual(
      expect.arrayContaining([
        'versions.tf',
        'variables.tf',
        'outputs.tf',
        'main.tf',
        'kinesis.tf',
        's3.tf',
        'dynamodb.tf',
        'iam.tf',
        'ecs.tf',
        'lambda.tf',
        'alarms.tf',
      ]),
    );
    const [terraform] = mod.terraform;
    expect(terraform?.required_version).toBe('>= 1.5.0');
    const aws = (blocks(terraform, 'required_providers')[0]?.aws ?? {}) as Record<string, string>;
    expect(aws.source).toBe('hashicorp/aws');
    expect(aws.version).toMatch(/>=\s*6/);
  });

  it('holds a Kinesis stream, a lease table, a bucket, IAM roles, an ECS service, a Lambda event source mapping and alarms', () => {
    expect(Object.keys(mod.resource.aws_kinesis_stream ?? {})).toHaveLength(1);
    expect(Object.keys(mod.resource.aws_dynamodb_table ?? {})).toEqual(['leases']);
    expect(Object.keys(mod.resource.aws_s3_bucket ?? {})).toEqual(['lake']);
    expect(Object.keys(mod.resource.aws_iam_role ?? {})).toEqual(
      expect.arrayContaining(['consumer', 'producer', 'singlestore', 'ecs_execution']),
    );
    expect(mod.resource.aws_ecs_service?.consumer).toBeDefined();
    expect(mod.resource.aws_ecs_task_definition?.consumer).toBeDefined();
    expect(mod.resource.aws_lambda_function?.consumer).toBeDefined();
    expect(mod.resource.aws_lambda_event_source_mapping?.consumer).toBeDefined();
    expect(Object.keys(mod.resource.aws_cloudwatch_metric_alarm ?? {})).toEqual(
      expect.arrayContaining([
        'iterator_age',
        'read_throttled',
        'write_throttled',
        'landing_stalled',
        'landing_failing',
        'dead_letters',
        'workers_running',
        'lambda_failed_batches',
      ]),
    );
  });

  it('types, describes and (where a value can be wrong) validates every variable; describes every output', () => {
    for (const m of [mod, example]) {
      for (const [name, v] of Object.entries(m.variable)) {
        expect(v.type, `variable ${name}: type`).toBeTypeOf('string');
        expect(String(v.description ?? ''), `variable ${name}: description`).toMatch(/\w{3,}/);
      }
      for (const [name, o] of Object.entries(m.output)) {
        expect(String(o.description ?? ''), `output ${name}: description`).toMatch(/\w{3,}/);
      }
    }
    const validated = Object.values(mod.variable).filter((v) => blocks(v, 'validation').length > 0);
    expect(validated.length).toBeGreaterThanOrEqual(25);
    expect(Object.keys(mod.variable).length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(mod.output)).toEqual(
      expect.arrayContaining([
        'stream_name',
        'stream_arn',
        'bucket_name',
        'consumer_role_arn',
        'producer_role_arn',
        'singlestore_role_arn',
        'warehouse_init_command',
        'warehouse_init_config',
        'fluent_bit_env',
      ]),
    );
  });

  it('has a complete example that uses the module', () => {
    expect(example.module.shardline?.source).toBe('../..');
    expect(example.files).toEqual(expect.arrayContaining(['main.tf', 'versions.tf', 'outputs.tf']));
  });
});

describe('terraform module: security', () => {
  it('never makes the bucket public, and refuses plain HTTP', () => {
    const block = resource('aws_s3_bucket_public_access_block', 'lake');
    for (const flag of [
      'block_public_acls',
      'block_public_policy',
      'ignore_public_acls',
      'restrict_public_buckets',
    ]) {
      expect(block[flag], flag).toBe(true);
    }
    expect(blocks(resource('aws_s3_bucket_ownership_controls', 'lake'), 'rule')[0]?.object_ownership).toBe(
      'BucketOwnerEnforced',
    );
    expect(mod.resource.aws_s3_bucket_acl).toBeUndefined();
    const tls = policy('lake_bucket').find((s) =>
      blocks(s, 'condition').some(
        (c) => c.variable === 'aws:SecureTransport' && strings(c.values).includes('false'),
      ),
    );
    expect(tls?.effect).toBe('Deny');
    expect(strings(tls?.resources)).toEqual(['${aws_s3_bucket.lake.arn}', '${aws_s3_bucket.lake.arn}/*']);
    expect(resource('aws_s3_bucket_policy', 'lake').policy).toBe(
      '${data.aws_iam_policy_document.lake_bucket.json}',
    );
  });

  it('encrypts everything at rest: stream, bucket, lease table, queue, logs', () => {
    expect(resource('aws_kinesis_stream', 'this').encryption_type).toBe('KMS');
    expect(resource('aws_kinesis_stream', 'this').kms_key_id).toBe('${var.stream_kms_key_id}');
    const sse = blocks(
      blocks(resource('aws_s3_bucket_server_side_encryption_configuration', 'lake'), 'rule')[0],
      'apply_server_side_encryption_by_default',
    )[0];
    expect(String(sse?.sse_algorithm)).toMatch(/AES256/);
    expect(String(sse?.sse_algorithm)).toMatch(/aws:kms/);
    expect(blocks(resource('aws_dynamodb_table', 'leases'), 'server_side_encryption')[0]?.enabled).toBe(true);
    expect(resource('aws_sqs_queue', 'lambda_failures').sqs_managed_sse_enabled).toBe(true);
    for (const name of ['consumer', 'lambda']) {
      expect(resource('aws_cloudwatch_log_group', name).kms_key_id).toBe('${var.log_kms_key_arn}');
      expect(resource('aws_cloudwatch_log_group', name).retention_in_days).toBe('${var.log_retention_days}');
    }
  });

  it('grants no wildcard action and no action on every resource', () => {
    const documents = Object.keys(mod.data.aws_iam_policy_document ?? {});
    expect(documents.length).toBeGreaterThanOrEqual(8);
    for (const name of documents) {
      for (const s of allows(policy(name))) {
        for (const action of strings(s.actions)) {
          expect(action, `${name}: action`).not.toMatch(/\*/);
        }
        for (const r of strings(s.resources)) expect(r, `${name}: resource`).not.toBe('*');
        for (const p of blocks(s, 'principals'))
          expect(strings(p.identifiers), `${name}: principal`).not.toContain('*');
      }
    }
    expect(mod.resource.aws_iam_policy_attachment).toBeUndefined();
    const managed = Object.values(mod.resource.aws_iam_role_policy_attachment ?? {}).map((a) => a.policy_arn);
    expect(managed).toEqual([
      'arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy',
    ]);
  });

  it('lets the consumer read this stream, lease this table and write only the lake folders it lands in', () => {
    const statements = allows(policy('consumer'));
    const bySid = Object.fromEntries(statements.map((s) => [s.sid, s]));
    expect(strings(bySid.ReadStream?.resources)).toEqual(['${aws_kinesis_stream.this.arn}']);
    expect(strings(bySid.ReadStream?.actions).every((a) => /^kinesis:(Describe|Get|List)/.test(a))).toBe(
      true,
    );
    expect(strings(bySid.Leases?.resources)).toEqual(['${aws_dynamodb_table.leases[0].arn}']);
    expect(strings(bySid.Leases?.actions)).not.toContain('dynamodb:CreateTable');
    expect(strings(bySid.LandObjects?.actions)).toEqual(['s3:PutObject']);
    expect(strings(bySid.LandObjects?.resources)).toEqual([
      '${aws_s3_bucket.lake.arn}/${local.requests_prefix}*',
      '${aws_s3_bucket.lake.arn}/${local.dead_letters_prefix}*',
      '${aws_s3_bucket.lake.arn}/${local.raw_prefix}*',
    ]);
    // Learned routes are the only objects it reads back.
    expect(strings(bySid.PipelineState?.actions).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(strings(bySid.PipelineState?.resources)).toEqual([
      '${aws_s3_bucket.lake.arn}/${local.state_prefix}*',
    ]);
    const list = bySid.ListLakeFolders;
    expect(strings(list?.actions)).toEqual(['s3:ListBucket']);
    expect(blocks(list, 'condition')[0]?.variable).toBe('s3:prefix');
    const main = readFileSync(join(DIR, 'main.tf'), 'utf8');
    expect(main).toMatch(/requests_prefix\s+=\s+"\$\{var\.lake_prefix\}requests\/"/);
    expect(main).toMatch(/dead_letters_prefix\s+=\s+"\$\{var\.lake_prefix\}dead_letters\/"/);
  });

  it('lets the producer put records on this stream only, through IRSA or ECS task roles', () => {
    const [put, ...rest] = allows(policy('producer'));
    expect(strings(put?.actions).sort()).toEqual(['kinesis:PutRecord', 'kinesis:PutRecords']);
    expect(strings(put?.resources)).toEqual(['${aws_kinesis_stream.this.arn}']);
    expect(rest.flatMap((s) => strings(s.actions))).toEqual(['kms:GenerateDataKey']);
    const trust = policy('producer_trust');
    expect(trust.map((s) => s.sid)).toEqual(['EksServiceAccounts', 'EcsTasks']);
    expect(blocks(trust[0], 'condition').map((c) => String(c.variable))).toEqual([
      '${local.producer_oidc_issuer}:aud',
      '${local.producer_oidc_issuer}:sub',
    ]);
  });

  it('lets SingleStore read only the Parquet folders (live and replayed), from its principal, with the external id', () => {
    const statements = allows(policy('singlestore'));
    const actions = statements.flatMap((s) => strings(s.actions));
    expect(actions).toEqual(['s3:ListBucket', 's3:GetObject', 'kms:Decrypt']);
    expect(strings(statements[1]?.resources)).toEqual([
      '${aws_s3_bucket.lake.arn}/${local.requests_prefix}*',
      '${aws_s3_bucket.lake.arn}/${local.replays_prefix}*',
    ]);
    expect(strings(blocks(statements[0], 'condition')[0]?.values)).toEqual([
      '${local.requests_prefix}',
      '${local.requests_prefix}*',
      '${local.replays_prefix}',
      '${local.replays_prefix}*',
    ]);
    const [trust] = policy('singlestore_trust');
    expect(blocks(trust, 'condition')[0]?.variable).toBe('sts:ExternalId');
  });
});

describe('terraform module: consumers', () => {
  it('creates the lease table as shardline consume expects it, with point-in-time recovery', async () => {
    const table = resource('aws_dynamodb_table', 'leases');
    const leaseTable = await readFile(join(ROOT, 'consumers/leases/lease-table.ts'), 'utf8');
    const runPipeline = await readFile(join(ROOT, 'consumers/cli/run-pipeline.ts'), 'utf8');
    const key = /KeySchema: \[\{ AttributeName: '(\w+)', KeyType: 'HASH' \}\]/.exec(leaseTable)?.[1];
    expect(table.hash_key).toBe(key);
    expect(blocks(table, 'attribute')).toEqual([{ name: key, type: 'S' }]);
    expect(table.billing_mode).toBe('PAY_PER_REQUEST');
    expect(blocks(table, 'point_in_time_recovery')[0]?.enabled).toBe(true);
    // The default name is the consumer's default: `shardline-leases-<stream name>`.
    expect(runPipeline).toContain('`shardline-leases-${streamName}`');
    expect(readFileSync(join(DIR, 'main.tf'), 'utf8')).toContain(
      'coalesce(var.lease_table_name, "shardline-leases-${var.name}")',
    );
    expect(resource('aws_kinesis_stream', 'this').name).toBe('${var.name}');
  });

  it('runs the workers so that a deployment or a scale-in hands leases over without a gap', () => {
    const service = resource('aws_ecs_service', 'consumer');
    expect(service.deployment_minimum_healthy_percent).toBe(100);
    expect(service.deployment_maximum_percent).toBe(200);
    expect(service.desired_count).toBe('${local.shard_based_workers}');
    const task = String(resource('aws_ecs_task_definition', 'consumer').container_definitions);
    for (const field of ['stopTimeout', 'healthCheck', 'SHARDLINE_CONFIG', 'awslogs', '--metrics-port']) {
      expect(task).toContain(field);
    }
    const stop = blocks(mod.variable.stop_timeout_seconds, 'validation')[0];
    expect(String(stop?.condition)).toContain('<= 120');
    expect(resource('aws_appautoscaling_target', 'consumer').min_capacity).toBe(
      '${local.shard_based_workers}',
    );
  });

  it('maps the stream to the Lambda consumer with partial batch responses, bisection, bounded retries and a failure queue', () => {
    const esm = resource('aws_lambda_event_source_mapping', 'consumer');
    expect(strings(esm.function_response_types)).toEqual(['ReportBatchItemFailures']);
    expect(esm.bisect_batch_on_function_error).toBe(true);
    expect(esm.maximum_retry_attempts).toBe('${var.lambda_maximum_retry_attempts}');
    expect(esm.parallelization_factor).toBe('${var.lambda_parallelization_factor}');
    const onFailure = blocks(blocks(esm, 'destination_config')[0], 'on_failure')[0];
    expect(onFailure?.destination_arn).toBe('${aws_sqs_queue.lambda_failures[0].arn}');
    const fn = resource('aws_lambda_function', 'consumer');
    expect(fn.package_type).toBe('Image');
    expect(JSON.stringify(blocks(fn, 'environment')[0]?.variables)).toContain('SHARDLINE_CONFIG');
    const retries = blocks(mod.variable.lambda_maximum_retry_attempts, 'validation')[0];
    expect(String(retries?.condition)).toContain('10000');
  });
});
