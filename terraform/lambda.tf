################################################################################
# The Lambda consumer: Lambda's event source mapping owns iterators and checkpoints
################################################################################

resource "aws_cloudwatch_log_group" "lambda" {
  count = local.lambda ? 1 : 0

  name              = "/aws/lambda/${var.name}-consumer"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = local.tags
}

resource "aws_lambda_function" "consumer" {
  count = local.lambda ? 1 : 0

  function_name = "${var.name}-consumer"
  description   = "Shardline: ${var.name} stream to Parquet in s3://${local.bucket_name}/${var.lake_prefix}"
  role          = aws_iam_role.consumer.arn
  package_type  = "Image"
  image_uri     = var.lambda_image_uri
  architectures = ["x86_64"]
  memory_size   = var.lambda_memory_size
  timeout       = var.lambda_timeout_seconds
  # Publish a version per image: roll back by pointing the event source mapping's alias back.
  publish = true

  reserved_concurrent_executions = var.lambda_reserved_concurrency

  environment {
    variables = {
      SHARDLINE_CONFIG    = jsonencode(local.lambda_config)
      SHARDLINE_LOG_LEVEL = "info"
    }
  }

  lifecycle {
    precondition {
      condition     = var.lambda_image_uri != null
      error_message = "consumer = \"lambda\" needs `lambda_image_uri`: the image built with `docker build --target lambda`, in ECR."
    }
  }

  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.consumer]

  tags = local.tags
}

resource "aws_lambda_alias" "live" {
  count = local.lambda ? 1 : 0

  name             = "live"
  description      = "The version the event source mapping invokes"
  function_name    = aws_lambda_function.consumer[0].function_name
  function_version = aws_lambda_function.consumer[0].version
}

# Batches whose records could not land after every retry: the message holds the shard and the
# sequence range (not the data); re-drive them from the stream within its retention.
resource "aws_sqs_queue" "lambda_failures" {
  count = local.lambda ? 1 : 0

  name                      = "${var.name}-consumer-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true

  tags = local.tags
}

resource "aws_lambda_event_source_mapping" "consumer" {
  count = local.lambda ? 1 : 0

  event_source_arn  = aws_kinesis_stream.this.arn
  function_name     = aws_lambda_alias.live[0].arn
  starting_position = var.lambda_starting_position

  batch_size                         = var.lambda_batch_size
  maximum_batching_window_in_seconds = var.lambda_batching_window_seconds
  parallelization_factor             = var.lambda_parallelization_factor

  # The handler answers the first record that did not land; Lambda retries from it.
  function_response_types = ["ReportBatchItemFailures"]
  # A function error (crash, timeout) splits the batch, so one bad half cannot block the other.
  bisect_batch_on_function_error = true
  maximum_retry_attempts         = var.lambda_maximum_retry_attempts
  maximum_record_age_in_seconds  = var.lambda_maximum_record_age_seconds

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.lambda_failures[0].arn
    }
  }

  depends_on = [aws_iam_role_policy.consumer]
}
