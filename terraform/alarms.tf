################################################################################
# Alarms: falling behind, throttled, not landing, dead letters, consumer down
################################################################################

resource "aws_sns_topic" "alarms" {
  count = var.create_alarm_topic && var.alarm_topic_arn == null ? 1 : 0

  name = "${var.name}-alarms"
  # CloudWatch cannot publish to a topic under the AWS managed key (aws/sns): give a customer
  # managed key whose policy allows cloudwatch.amazonaws.com, or leave it to SNS's own storage.
  kms_master_key_id = var.alarm_topic_kms_key_id

  tags = local.tags
}

locals {
  alarm_topic_arn = coalesce(var.alarm_topic_arn, try(aws_sns_topic.alarms[0].arn, null), "none")
  alarm_actions   = local.alarm_topic_arn == "none" ? [] : [local.alarm_topic_arn]
  stream_dims     = { StreamName = aws_kinesis_stream.this.name }
}

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name        = "${var.name}-iterator-age"
  alarm_description = "The ${var.consumer} consumer of ${var.name} is behind by more than ${var.iterator_age_alarm_ms} ms: records wait to be landed (and expire after ${var.stream_retention_hours} h)."
  namespace         = local.ecs ? "AWS/Kinesis" : "AWS/Lambda"
  metric_name       = local.ecs ? "GetRecords.IteratorAgeMilliseconds" : "IteratorAge"
  dimensions        = local.ecs ? local.stream_dims : { FunctionName = "${var.name}-consumer" }
  statistic         = "Maximum"
  period            = 60
  # A worker restart or a lease takeover lags for seconds, not for five minutes.
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = var.iterator_age_alarm_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "read_throttled" {
  alarm_name          = "${var.name}-read-throttled"
  alarm_description   = "GetRecords on ${var.name} is throttled for 15 minutes: too many readers per shard (other consumers?) or too few shards."
  namespace           = "AWS/Kinesis"
  metric_name         = "ReadProvisionedThroughputExceeded"
  dimensions          = local.stream_dims
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "write_throttled" {
  alarm_name          = "${var.name}-write-throttled"
  alarm_description   = "PutRecords on ${var.name} is throttled for 15 minutes: Fluent Bit buffers and retries, but its disk buffer fills. Add shards (PROVISIONED) or check a hot partition key."
  namespace           = "AWS/Kinesis"
  metric_name         = "WriteProvisionedThroughputExceeded"
  dimensions          = local.stream_dims
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

# Records arrive but no Parquet lands, for 15 minutes: the consumer is down or cannot write.
resource "aws_cloudwatch_metric_alarm" "landing_stalled" {
  alarm_name          = "${var.name}-landing-stalled"
  alarm_description   = "Records reach ${var.name} but no Parquet file lands under s3://${local.bucket_name}/${local.requests_prefix} for 15 minutes: check the consumer's health and logs (landing errors say what to fix)."
  evaluation_periods  = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "stalled"
    expression  = "IF(incoming > 0 AND FILL(landed, 0) == 0, 1, 0)"
    label       = "records arrived, nothing landed"
    return_data = true
  }

  metric_query {
    id = "incoming"
    metric {
      namespace   = "AWS/Kinesis"
      metric_name = "IncomingRecords"
      dimensions  = local.stream_dims
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "landed"
    metric {
      namespace   = "AWS/S3"
      metric_name = "PutRequests"
      dimensions  = { BucketName = aws_s3_bucket.lake.id, FilterId = aws_s3_bucket_metric.requests.name }
      stat        = "Sum"
      period      = 300
    }
  }

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${var.name}-dead-letters"
  alarm_description   = "More than ${var.dead_letter_files_alarm} dead-letter files landed in 15 minutes under s3://${local.bucket_name}/${local.dead_letters_prefix}: a producer sends logs the schema refuses (read their reason)."
  namespace           = "AWS/S3"
  metric_name         = "PutRequests"
  dimensions          = { BucketName = aws_s3_bucket.lake.id, FilterId = aws_s3_bucket_metric.dead_letters.name }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  threshold           = var.dead_letter_files_alarm
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

# Landing keeps failing (the worker retries forever and says why): S3 down, access denied, no bucket.
resource "aws_cloudwatch_log_metric_filter" "landing_failed" {
  name           = "${var.name}-landing-failed"
  log_group_name = local.ecs ? aws_cloudwatch_log_group.consumer[0].name : aws_cloudwatch_log_group.lambda[0].name
  pattern        = "{ $.msg = \"landing failed*\" }"

  metric_transformation {
    name          = "LandingFailures"
    namespace     = "Shardline/${var.name}"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "landing_failing" {
  alarm_name          = "${var.name}-landing-failing"
  alarm_description   = "The ${var.name} consumer's landings have failed in each of the last 3 periods of 5 minutes; its logs (\"landing failed\") name the cause and whether it heals by itself."
  namespace           = "Shardline/${var.name}"
  metric_name         = aws_cloudwatch_log_metric_filter.landing_failed.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "workers_running" {
  count = local.ecs ? 1 : 0

  alarm_name          = "${var.name}-workers-running"
  alarm_description   = "Fewer than ${local.shard_based_workers} Shardline workers run (health checks failing, tasks crashing, or no capacity): leases wait for the survivors."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = local.ecs_cluster_name, ServiceName = aws_ecs_service.consumer[0].name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 10
  datapoints_to_alarm = 8
  threshold           = local.shard_based_workers
  comparison_operator = "LessThanThreshold"
  # Without Container Insights there is no data at all: say nothing rather than alarm forever.
  treat_missing_data = "missing"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  count = local.lambda ? 1 : 0

  alarm_name          = "${var.name}-consumer-errors"
  alarm_description   = "The ${var.name} Lambda consumer failed invocations (crash, timeout, or an event that is not from Kinesis): Lambda bisects and retries them."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.consumer[0].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_failed_batches" {
  count = local.lambda ? 1 : 0

  alarm_name          = "${var.name}-consumer-skipped-batches"
  alarm_description   = "Lambda gave up on batches of ${var.name} after every retry and moved on: their ranges are in the ${aws_sqs_queue.lambda_failures[0].name} queue. Re-drive them from the stream before they expire (${var.stream_retention_hours} h)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.lambda_failures[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}
