################################################################################
# Stream, lake, leases
################################################################################

output "stream_name" {
  description = "Kinesis stream name: Fluent Bit's `stream` and the consumer's `stream.name`."
  value       = aws_kinesis_stream.this.name
}

output "stream_arn" {
  description = "Kinesis stream ARN."
  value       = aws_kinesis_stream.this.arn
}

output "bucket_name" {
  description = "Lake bucket: Parquet under `<lake_prefix>requests/`, dead letters under `<lake_prefix>dead_letters/`."
  value       = aws_s3_bucket.lake.id
}

output "bucket_arn" {
  description = "Lake bucket ARN."
  value       = aws_s3_bucket.lake.arn
}

output "lake_uri" {
  description = "Where the Parquet files land."
  value       = "s3://${aws_s3_bucket.lake.id}/${local.requests_prefix}"
}

output "lease_table_name" {
  description = "DynamoDB lease table (consumer = \"ecs\"); `shardline leases` reads it."
  value       = try(aws_dynamodb_table.leases[0].name, null)
}

################################################################################
# Roles
################################################################################

output "consumer_role_arn" {
  description = "Role of the consumer: the ECS task role, or the Lambda execution role."
  value       = aws_iam_role.consumer.arn
}

output "producer_role_arn" {
  description = "Role of the Fluent Bit sidecars: the `eks.amazonaws.com/role-arn` annotation of their service account, or their ECS task role. Null unless producer_oidc_provider_arn or producer_ecs_tasks is set."
  value       = try(aws_iam_role.producer[0].arn, null)
}

output "singlestore_role_arn" {
  description = "Role SingleStore's S3 pipeline assumes (`credentials.roleArn` of the warehouse config). Null unless singlestore_principal_arn is set."
  value       = try(aws_iam_role.singlestore[0].arn, null)
}

################################################################################
# Consumer
################################################################################

output "consumer_config" {
  description = "The JSON config the consumer runs with ($SHARDLINE_CONFIG): `shardline consume` config for ECS, the pipeline config for Lambda. Save it as consume.json to run `shardline leases -c consume.json` against the same table."
  value       = jsonencode(local.ecs ? local.consume_config : local.lambda_config)
}

output "ecs_cluster_arn" {
  description = "ECS cluster of the workers (consumer = \"ecs\")."
  value       = local.ecs_cluster_arn
}

output "ecs_service_name" {
  description = "ECS service of the workers (consumer = \"ecs\")."
  value       = try(aws_ecs_service.consumer[0].name, null)
}

output "log_group_name" {
  description = "CloudWatch log group of the consumer (one JSON object per line)."
  value       = local.ecs ? aws_cloudwatch_log_group.consumer[0].name : aws_cloudwatch_log_group.lambda[0].name
}

output "lambda_function_name" {
  description = "The Lambda consumer (consumer = \"lambda\")."
  value       = try(aws_lambda_function.consumer[0].function_name, null)
}

output "lambda_failure_queue_url" {
  description = "SQS queue of batches Lambda gave up on (shard and sequence range, to re-drive from the stream)."
  value       = try(aws_sqs_queue.lambda_failures[0].url, null)
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify, if any."
  value       = local.alarm_topic_arn == "none" ? null : local.alarm_topic_arn
}

################################################################################
# Next steps: SingleStore and Fluent Bit
################################################################################

output "warehouse_init_config" {
  description = "The pipeline config of `shardline warehouse init` (schemas/singlestore/pipeline-config.ts), with the SingleStore role."
  value = jsonencode({
    bucket      = aws_s3_bucket.lake.id
    prefix      = var.lake_prefix
    region      = local.region
    credentials = var.singlestore_principal_arn == null ? { type = "instance" } : { type = "role", roleArn = aws_iam_role.singlestore[0].arn }
  })
}

output "warehouse_init_command" {
  description = "Creates the SingleStore tables and the S3 pipeline that loads the lake (idempotent)."
  value       = "terraform output -raw warehouse_init_config > pipeline.json && SINGLESTORE_URL='singlestore://<user>:<password>@<host>:3306/<database>' npx shardline warehouse init --config pipeline.json"
}

output "fluent_bit_env" {
  description = "Environment of the Fluent Bit sidecar (fluent-bit/sidecar-*.yaml): empty endpoint, port and CA mean AWS's regional endpoint over TLS."
  value = {
    SHARDLINE_STREAM           = aws_kinesis_stream.this.name
    AWS_REGION                 = local.region
    SHARDLINE_KINESIS_ENDPOINT = ""
    SHARDLINE_KINESIS_PORT     = ""
    SHARDLINE_TLS_CA_FILE      = ""
  }
}

output "fluent_bit_service_account_annotations" {
  description = "Annotations of the sidecar pods' Kubernetes service account (IRSA)."
  value       = local.producer_irsa ? { "eks.amazonaws.com/role-arn" = aws_iam_role.producer[0].arn } : {}
}
