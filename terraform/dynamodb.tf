# The lease table exactly as `shardline consume` creates it when missing
# (consumers/leases/lease-table.ts): hash key `leaseKey` (S), on-demand. Created here so the
# workers need no dynamodb:CreateTable, and with point-in-time recovery: it holds every
# shard's checkpoint.
resource "aws_dynamodb_table" "leases" {
  count = local.ecs ? 1 : 0

  name         = local.lease_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "leaseKey"

  attribute {
    name = "leaseKey"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.lease_table_kms_key_arn
  }

  deletion_protection_enabled = var.lease_table_deletion_protection

  tags = local.tags
}
