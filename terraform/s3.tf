resource "aws_s3_bucket" "lake" {
  bucket        = local.bucket_name
  force_destroy = var.bucket_force_destroy

  tags = local.tags
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket = aws_s3_bucket.lake.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: the bucket owner owns every object; access is by IAM and the bucket policy only.
resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.lake_kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.lake_kms_key_arn
    }
    bucket_key_enabled = var.lake_kms_key_arn != null
  }
}

# Off by default: keys are deterministic, so a re-landed batch replaces an identical object.
resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id

  versioning_configuration {
    status = var.lake_versioning ? "Enabled" : "Suspended"
  }
}

data "aws_iam_policy_document" "lake_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.lake.arn,
      "${aws_s3_bucket.lake.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyOutdatedTls"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.lake.arn,
      "${aws_s3_bucket.lake.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }
}

resource "aws_s3_bucket_policy" "lake" {
  bucket = aws_s3_bucket.lake.id
  policy = data.aws_iam_policy_document.lake_bucket.json

  # A policy put before the public access block could be refused as public.
  depends_on = [aws_s3_bucket_public_access_block.lake]
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id

  # Dead letters hold original bytes (maybe secrets): kept long enough to re-drive, then gone.
  rule {
    id     = "expire-dead-letters"
    status = "Enabled"

    filter {
      prefix = local.dead_letters_prefix
    }

    expiration {
      days = var.dead_letter_expiration_days
    }
  }

  dynamic "rule" {
    for_each = var.requests_expiration_days == null ? [] : [var.requests_expiration_days]

    content {
      id     = "expire-requests"
      status = "Enabled"

      filter {
        prefix = local.requests_prefix
      }

      expiration {
        days = rule.value
      }
    }
  }

  # The consumer puts objects in one request, but other writers (replays, tools) may not.
  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.lake]
}

# CloudWatch request metrics per folder: dead-letter rate and landing stalls (alarms.tf).
resource "aws_s3_bucket_metric" "requests" {
  bucket = aws_s3_bucket.lake.id
  name   = "requests"

  filter {
    prefix = local.requests_prefix
  }
}

resource "aws_s3_bucket_metric" "dead_letters" {
  bucket = aws_s3_bucket.lake.id
  name   = "dead-letters"

  filter {
    prefix = local.dead_letters_prefix
  }
}
