resource "aws_kinesis_stream" "this" {
  name             = var.name
  shard_count      = var.stream_mode == "PROVISIONED" ? var.stream_shard_count : null
  retention_period = var.stream_retention_hours

  encryption_type = "KMS"
  kms_key_id      = var.stream_kms_key_id

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  # Per-shard metrics would cost per shard; the stream-level ones drive the alarms.
  shard_level_metrics = []

  tags = local.tags
}
