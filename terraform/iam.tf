# Least privilege: each role gets the actions it calls, on this deployment's resources only.

locals {
  stream_kms_is_cmk = !startswith(var.stream_kms_key_id, "alias/aws/")
  producer_irsa     = var.producer_oidc_provider_arn != null && length(var.producer_service_accounts) > 0
  create_producer   = local.producer_irsa || var.producer_ecs_tasks
  # `oidc.eks.<region>.amazonaws.com/id/<id>`: the provider ARN after `oidc-provider/`.
  producer_oidc_issuer = local.producer_irsa ? split("oidc-provider/", var.producer_oidc_provider_arn)[1] : ""
}

################################################################################
# Consumer: read this stream, lease this table, write the lake's two folders
################################################################################

data "aws_iam_policy_document" "consumer" {
  statement {
    sid = "ReadStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.this.arn]
  }

  dynamic "statement" {
    for_each = local.stream_kms_is_cmk ? [1] : []

    content {
      sid       = "DecryptStream"
      actions   = ["kms:Decrypt"]
      resources = [var.stream_kms_key_id]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["kinesis.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.ecs ? [1] : []

    content {
      sid = "Leases"
      actions = [
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Scan",
      ]
      resources = [aws_dynamodb_table.leases[0].arn]
    }
  }

  statement {
    sid     = "LandObjects"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.lake.arn}/${local.requests_prefix}*",
      "${aws_s3_bucket.lake.arn}/${local.dead_letters_prefix}*",
      # A batch is landed only when its raw archive object is stored too (archive.enabled).
      "${aws_s3_bucket.lake.arn}/${local.raw_prefix}*",
    ]
  }

  # Learned routes: each worker writes its own object and reads the others' (shared endpoints).
  statement {
    sid       = "PipelineState"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${aws_s3_bucket.lake.arn}/${local.state_prefix}*"]
  }

  statement {
    sid       = "ListLakeFolders"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.lake.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values = [
        local.requests_prefix,
        "${local.requests_prefix}*",
        local.dead_letters_prefix,
        "${local.dead_letters_prefix}*",
        local.state_prefix,
        "${local.state_prefix}*",
        local.raw_prefix,
        "${local.raw_prefix}*",
      ]
    }
  }

  dynamic "statement" {
    for_each = var.lake_kms_key_arn == null ? [] : [1]

    content {
      sid       = "EncryptLake"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.lake_kms_key_arn]
    }
  }

  dynamic "statement" {
    for_each = local.lambda ? [1] : []

    content {
      sid       = "ReportFailedBatches"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.lambda_failures[0].arn]
    }
  }

  dynamic "statement" {
    for_each = local.lambda ? [1] : []

    content {
      sid       = "WriteLogs"
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${aws_cloudwatch_log_group.lambda[0].arn}:*"]
    }
  }
}

data "aws_iam_policy_document" "consumer_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [local.ecs ? "ecs-tasks.amazonaws.com" : "lambda.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "consumer" {
  name               = "${var.name}-consumer"
  description        = "Shardline consumer (${var.consumer}) of the ${var.name} stream"
  assume_role_policy = data.aws_iam_policy_document.consumer_trust.json

  tags = local.tags
}

resource "aws_iam_role_policy" "consumer" {
  name   = "shardline-consumer"
  role   = aws_iam_role.consumer.id
  policy = data.aws_iam_policy_document.consumer.json
}

################################################################################
# ECS task execution: pull the image, write the log group
################################################################################

data "aws_iam_policy_document" "ecs_execution_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ecs_execution" {
  count = local.ecs ? 1 : 0

  name               = "${var.name}-consumer-execution"
  description        = "ECS pulls the Shardline image and writes its logs"
  assume_role_policy = data.aws_iam_policy_document.ecs_execution_trust.json

  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "ecs_execution" {
  count = local.ecs ? 1 : 0

  role       = aws_iam_role.ecs_execution[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

################################################################################
# Producer: Fluent Bit sidecars put records on this stream, nothing else
################################################################################

data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "PutRecords"
    actions   = ["kinesis:PutRecords", "kinesis:PutRecord"]
    resources = [aws_kinesis_stream.this.arn]
  }

  dynamic "statement" {
    for_each = local.stream_kms_is_cmk ? [1] : []

    content {
      sid       = "EncryptStream"
      actions   = ["kms:GenerateDataKey"]
      resources = [var.stream_kms_key_id]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["kinesis.${local.region}.amazonaws.com"]
      }
    }
  }
}

data "aws_iam_policy_document" "producer_trust" {
  dynamic "statement" {
    for_each = local.producer_irsa ? [1] : []

    content {
      sid     = "EksServiceAccounts"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [var.producer_oidc_provider_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.producer_oidc_issuer}:aud"
        values   = ["sts.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.producer_oidc_issuer}:sub"
        values   = [for sa in var.producer_service_accounts : "system:serviceaccount:${sa}"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.producer_ecs_tasks ? [1] : []

    content {
      sid     = "EcsTasks"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "Service"
        identifiers = ["ecs-tasks.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_iam_role" "producer" {
  count = local.create_producer ? 1 : 0

  name               = "${var.name}-producer"
  description        = "Fluent Bit sidecars send request logs to the ${var.name} stream"
  assume_role_policy = data.aws_iam_policy_document.producer_trust.json

  tags = local.tags
}

resource "aws_iam_role_policy" "producer" {
  count = local.create_producer ? 1 : 0

  name   = "shardline-producer"
  role   = aws_iam_role.producer[0].id
  policy = data.aws_iam_policy_document.producer.json
}

################################################################################
# SingleStore: read-only on the Parquet folder
################################################################################

data "aws_iam_policy_document" "singlestore" {
  statement {
    sid       = "ListParquet"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.lake.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.requests_prefix, "${local.requests_prefix}*", local.replays_prefix, "${local.replays_prefix}*"]
    }
  }

  # The live pipeline reads requests/; the backfill pipeline reads replayed rows (schemas/README.md).
  statement {
    sid     = "ReadParquet"
    actions = ["s3:GetObject"]
    resources = [
      "${aws_s3_bucket.lake.arn}/${local.requests_prefix}*",
      "${aws_s3_bucket.lake.arn}/${local.replays_prefix}*",
    ]
  }

  dynamic "statement" {
    for_each = var.lake_kms_key_arn == null ? [] : [1]

    content {
      sid       = "DecryptLake"
      actions   = ["kms:Decrypt"]
      resources = [var.lake_kms_key_arn]
    }
  }
}

data "aws_iam_policy_document" "singlestore_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = [coalesce(var.singlestore_principal_arn, "arn:${local.partition}:iam::${local.account_id}:root")]
    }

    dynamic "condition" {
      for_each = var.singlestore_external_id == null ? [] : [1]

      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = [var.singlestore_external_id]
      }
    }
  }
}

resource "aws_iam_role" "singlestore" {
  count = var.singlestore_principal_arn == null ? 0 : 1

  name               = "${var.name}-singlestore"
  description        = "SingleStore's S3 pipeline reads the Parquet files of ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.singlestore_trust.json

  tags = local.tags
}

resource "aws_iam_role_policy" "singlestore" {
  count = var.singlestore_principal_arn == null ? 0 : 1

  name   = "shardline-singlestore"
  role   = aws_iam_role.singlestore[0].id
  policy = data.aws_iam_policy_document.singlestore.json
}
