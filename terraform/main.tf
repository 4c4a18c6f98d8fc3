# Shardline on AWS: Kinesis stream → consumer (ECS Fargate workers with DynamoDB leases, or a
# Lambda function) → Parquet in S3 → SingleStore's S3 pipeline. One file per service:
# kinesis.tf, s3.tf, dynamodb.tf, iam.tf, ecs.tf, lambda.tf, alarms.tf.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Provider 6 names the region `region` (`name` is deprecated there); attribute names are checked
  # against the provider schema before evaluation, so `try()` could not bridge 5 and 6.
  region = data.aws_region.current.region

  ecs    = var.consumer == "ecs"
  lambda = var.consumer == "lambda"

  bucket_name      = coalesce(var.bucket_name, lower("${var.name}-lake-${local.account_id}-${local.region}"))
  lease_table_name = coalesce(var.lease_table_name, "shardline-leases-${var.name}")

  # The lake's folders: what the consumer writes and what SingleStore reads.
  requests_prefix     = "${var.lake_prefix}requests/"
  dead_letters_prefix = "${var.lake_prefix}dead_letters/"
  # The raw archive (each batch's original records, for replays) and replayed rows (backfills).
  raw_prefix     = "${var.lake_prefix}raw/"
  replays_prefix = "${var.lake_prefix}replays/requests/"
  # The pipeline's own state in the lake: learned routes per worker (pipeline/enrich/routes/).
  state_prefix = "${var.lake_prefix}_shardline/"

  lake = {
    type   = "s3"
    bucket = local.bucket_name
    prefix = var.lake_prefix
    region = local.region
  }

  # `shardline consume`'s config (README: "Configuration"), given to the container as
  # $SHARDLINE_CONFIG. Credentials come from the task role.
  consume_config = merge(var.pipeline_config, {
    stream = { name = var.name, region = local.region }
    checkpoints = {
      type              = "dynamodb"
      table             = local.lease_table_name
      failoverTimeMs    = var.failover_time_ms
      renewalIntervalMs = var.renewal_interval_ms
    }
    lake      = local.lake
    warehouse = { type = "none" }
    metrics   = { port = var.metrics_port, host = "0.0.0.0" }
  })

  # The Lambda consumer's pipeline config: no stream, checkpoints or metrics (Lambda owns them).
  lambda_config = merge(var.pipeline_config, { lake = local.lake })

  # ECS workers: enough for every shard at `shards_per_worker` each; auto scaling may add more.
  shard_based_workers = min(ceil(var.stream_shard_count / var.shards_per_worker), var.max_workers)

  tags = merge(var.tags, { "shardline:deployment" = var.name })
}
