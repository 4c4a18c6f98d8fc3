################################################################################
# General
################################################################################

variable "name" {
  description = "Name of the deployment: the Kinesis stream's name and the prefix of every other resource (e.g. `api-logs`)."
  type        = string

  validation {
    # Lambda, SQS and ECS names refuse '.', bucket names refuse '_' and upper case, and derived
    # names (`<name>-consumer-execution`, `<name>-lake-<account>-<region>`) must stay within IAM's
    # 64 and S3's 63 characters.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,29}$", var.name))
    error_message = "name must be 1-30 lower-case letters, digits or '-', starting with a letter or digit: it names the stream and prefixes the bucket, roles, queue and services."
  }
}

variable "tags" {
  description = "Tags added to every resource that takes tags."
  type        = map(string)
  default     = {}
}

variable "consumer" {
  description = "What consumes the stream: `ecs` (`shardline consume` workers on Fargate, DynamoDB leases) or `lambda` (the Lambda consumer; Lambda owns checkpoints)."
  type        = string
  default     = "ecs"

  validation {
    condition     = contains(["ecs", "lambda"], var.consumer)
    error_message = "consumer must be \"ecs\" or \"lambda\"."
  }
}

################################################################################
# Kinesis stream
################################################################################

variable "stream_mode" {
  description = "`ON_DEMAND` (Kinesis scales shards with traffic; no capacity planning) or `PROVISIONED` (a fixed `stream_shard_count`; cheaper at steady, known throughput)."
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "stream_shard_count" {
  description = "Shards of a PROVISIONED stream. With ON_DEMAND, the number of shards to size the ECS consumer for (an on-demand stream starts with 4)."
  type        = number
  default     = 4

  validation {
    condition     = var.stream_shard_count >= 1 && var.stream_shard_count <= 500 && floor(var.stream_shard_count) == var.stream_shard_count
    error_message = "stream_shard_count must be an integer from 1 to 500."
  }
}

variable "stream_retention_hours" {
  description = "How long records stay in the stream. Past 24 h costs extra, but it is the time you have to fix a consumer outage (or re-drive a Lambda on-failure message) before records expire unread."
  type        = number
  default     = 168

  validation {
    condition     = var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760
    error_message = "stream_retention_hours must be between 24 and 8760 (365 days)."
  }
}

variable "stream_kms_key_id" {
  description = "KMS key for the stream's server-side encryption: `alias/aws/kinesis` (AWS managed) or the ARN of your own key."
  type        = string
  default     = "alias/aws/kinesis"
  nullable    = false

  validation {
    # IAM policies name the key: an AWS managed alias resolves, a customer key needs its ARN.
    condition     = startswith(var.stream_kms_key_id, "alias/aws/") || can(regex("^arn:aws[a-z-]*:kms:", var.stream_kms_key_id))
    error_message = "stream_kms_key_id must be alias/aws/kinesis or the ARN of a KMS key (not a bare key id or a customer alias)."
  }
}

################################################################################
# Lake bucket
################################################################################

variable "bucket_name" {
  description = "Name of the lake bucket. Default: `<name>-lake-<account id>-<region>`."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'."
  }
}

variable "lake_prefix" {
  description = "Key prefix of the lake inside the bucket (the consumer's `lake.prefix`): Parquet under `<prefix>requests/`, dead letters under `<prefix>dead_letters/`. Empty, or folders ending in `/`."
  type        = string
  default     = "shardline/"
  nullable    = false

  validation {
    condition     = can(regex("^([A-Za-z0-9_.=-]+/)*$", var.lake_prefix))
    error_message = "lake_prefix must be empty or folders ending in '/', e.g. \"shardline/\"."
  }
}

variable "lake_kms_key_arn" {
  description = "KMS key ARN for SSE-KMS on the bucket (with S3 Bucket Keys). Default null: SSE-S3 (AES-256). The consumer, and SingleStore's role, are granted the key when set."
  type        = string
  default     = null
}

variable "lake_versioning" {
  description = "Keep object versions. Off by default: object keys are deterministic, so a re-landed batch replaces an identical object and versions would only keep copies. Turn it on if the bucket is replicated or you want undelete; noncurrent versions then expire after `noncurrent_version_expiration_days`."
  type        = bool
  default     = false
}

variable "requests_expiration_days" {
  description = "Delete Parquet files under `requests/` this many days after landing; null keeps them (SingleStore has loaded them within seconds, but the lake is also the raw history)."
  type        = number
  default     = null

  validation {
    condition     = var.requests_expiration_days == null || try(var.requests_expiration_days >= 1, false)
    error_message = "requests_expiration_days must be null or at least 1."
  }
}

variable "dead_letter_expiration_days" {
  description = "Delete dead letters (original bytes, which may hold secrets) this many days after landing: long enough to fix and re-drive them."
  type        = number
  default     = 30

  validation {
    condition     = var.dead_letter_expiration_days >= 1
    error_message = "dead_letter_expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "With `lake_versioning`, delete replaced object versions after this many days."
  type        = number
  default     = 7

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "bucket_force_destroy" {
  description = "Let `terraform destroy` delete a bucket that still holds objects. Keep false in production."
  type        = bool
  default     = false
}

################################################################################
# Lease table (consumer = "ecs")
################################################################################

variable "lease_table_name" {
  description = "Name of the DynamoDB lease table. Default `shardline-leases-<name>`, the name `shardline consume` uses when `checkpoints.table` is not set."
  type        = string
  default     = null

  validation {
    condition     = var.lease_table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.lease_table_name))
    error_message = "lease_table_name must be 3-255 letters, digits, '_', '-' or '.'."
  }
}

variable "lease_table_kms_key_arn" {
  description = "KMS key ARN for the lease table's encryption at rest. Default null: the AWS managed key `aws/dynamodb`."
  type        = string
  default     = null
}

variable "lease_table_deletion_protection" {
  description = "Refuse to delete the lease table (it holds every shard's checkpoint)."
  type        = bool
  default     = true
}

################################################################################
# Consumer settings shared by ECS and Lambda
################################################################################

variable "pipeline_config" {
  description = "Extra pipeline settings merged into the consumer's JSON config (keys of the `shardline consume` config other than stream, checkpoints, lake, metrics and warehouse), e.g. `{ redaction = { headerAllowlist = [\"host\", \"user-agent\"] } }`."
  type        = any
  default     = {}
}

variable "log_retention_days" {
  description = "Retention of the consumer's CloudWatch log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, … 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN to encrypt the consumer's log group. Default null: CloudWatch Logs' own encryption."
  type        = string
  default     = null
}

################################################################################
# ECS consumer
################################################################################

variable "image" {
  description = "Container image of `shardline consume` (the Dockerfile's default target), e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/shardline:1.4.0`. Required with consumer = \"ecs\"."
  type        = string
  default     = null
}

variable "ecs_cluster_arn" {
  description = "ECS cluster to run the service in. Default null: a cluster `<name>` is created, with Container Insights."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Subnets of the ECS tasks (private subnets with a NAT gateway or VPC endpoints for Kinesis, DynamoDB, S3, ECR and CloudWatch Logs). Required with consumer = \"ecs\"."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the ECS tasks. Default empty: one is created in `vpc_id`, with no ingress and all egress."
  type        = list(string)
  default     = []
}

variable "vpc_id" {
  description = "VPC of `subnet_ids`, for the security group created when `security_group_ids` is empty."
  type        = string
  default     = null
}

variable "assign_public_ip" {
  description = "Give tasks a public IP (only for public subnets without a NAT gateway)."
  type        = bool
  default     = false
}

variable "task_cpu" {
  description = "Fargate CPU units per worker (1024 = 1 vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)
    error_message = "task_cpu must be a Fargate CPU value: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "task_memory" {
  description = "Fargate memory (MiB) per worker. A worker holds per shard one GetRecords answer, its open batches together up to `batch.maxWorkerBytes` (64 MiB), the dedupe window (`dedupe.maxKeys`, 34 bytes each) and its fixed memory (~250 MB idle with 2 stage threads; README: a worker in 512 MB)."
  type        = number
  default     = 2048

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 122880
    error_message = "task_memory must be between 512 and 122880 MiB (and valid for task_cpu)."
  }
}

variable "shards_per_worker" {
  description = "Shards one worker reads. The service runs ceil(shards / shards_per_worker) workers, capped by `max_workers`."
  type        = number
  default     = 4

  validation {
    condition     = var.shards_per_worker >= 1 && floor(var.shards_per_worker) == var.shards_per_worker
    error_message = "shards_per_worker must be a positive integer."
  }
}

variable "max_workers" {
  description = "Most workers Application Auto Scaling may run (on CPU). More workers than shards sit idle, so keep it at most the shard count you expect."
  type        = number
  default     = 8

  validation {
    condition     = var.max_workers >= 1
    error_message = "max_workers must be at least 1."
  }
}

variable "cpu_target_percent" {
  description = "Average CPU of the workers that Application Auto Scaling keeps (adds workers above, removes below, never under the shard-based count)."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent > 0 && var.cpu_target_percent <= 100
    error_message = "cpu_target_percent must be in (0, 100]."
  }
}

variable "failover_time_ms" {
  description = "`checkpoints.failoverTimeMs`: a lease not renewed for this long is taken over (the longest a dead worker leaves its shards unread)."
  type        = number
  default     = 10000

  validation {
    condition     = var.failover_time_ms >= 300
    error_message = "failover_time_ms must be at least 300."
  }
}

variable "renewal_interval_ms" {
  description = "`checkpoints.renewalIntervalMs`: how often a worker renews its leases; at most a third of failover_time_ms. A worker stops within about this long after SIGTERM."
  type        = number
  default     = 2000

  validation {
    condition     = var.renewal_interval_ms >= 100
    error_message = "renewal_interval_ms must be at least 100."
  }
}

variable "stop_timeout_seconds" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL. The worker lands what it holds and hands its leases over within about one renewal interval plus one batch landing; Fargate allows at most 120."
  type        = number
  default     = 60

  validation {
    condition     = var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be between 2 and 120 (Fargate's maximum)."
  }
}

variable "metrics_port" {
  description = "Port of the worker's /metrics and /health (the image's HEALTHCHECK asks 9400)."
  type        = number
  default     = 9400
}

variable "container_health_check" {
  description = "Let ECS replace a worker whose /health answers 503 for 3 checks in a row (landing, Kinesis or the lease table failing, or a stuck shard). It hands its leases over on SIGTERM first."
  type        = bool
  default     = true
}

################################################################################
# Lambda consumer
################################################################################

variable "lambda_image_uri" {
  description = "Image of the Lambda consumer (`docker build --target lambda`), in ECR. Required with consumer = \"lambda\"."
  type        = string
  default     = null
}

variable "lambda_memory_size" {
  description = "Lambda memory (MiB); CPU grows with it. One invocation holds one batch of records decoded (`lambda_batch_size` records, at most 6 MB of event)."
  type        = number
  default     = 2048

  validation {
    condition     = var.lambda_memory_size >= 512 && var.lambda_memory_size <= 10240
    error_message = "lambda_memory_size must be between 512 and 10240 MiB."
  }
}

variable "lambda_timeout_seconds" {
  description = "Lambda timeout. The handler stops retrying a failing landing 5 s before it and reports what did not land."
  type        = number
  default     = 120

  validation {
    condition     = var.lambda_timeout_seconds >= 15 && var.lambda_timeout_seconds <= 900
    error_message = "lambda_timeout_seconds must be between 15 and 900."
  }
}

variable "lambda_batch_size" {
  description = "Most records per invocation."
  type        = number
  default     = 1000

  validation {
    condition     = var.lambda_batch_size >= 1 && var.lambda_batch_size <= 10000
    error_message = "lambda_batch_size must be between 1 and 10000."
  }
}

variable "lambda_batching_window_seconds" {
  description = "How long Lambda gathers records before invoking: the lake's freshness against the number of Parquet files (one or more per invocation and shard)."
  type        = number
  default     = 5

  validation {
    condition     = var.lambda_batching_window_seconds >= 0 && var.lambda_batching_window_seconds <= 300
    error_message = "lambda_batching_window_seconds must be between 0 and 300."
  }
}

variable "lambda_parallelization_factor" {
  description = "Concurrent invocations per shard (1-10). Records of one partition key stay in order; Fluent Bit's partition keys are random, so any value is safe."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_parallelization_factor >= 1 && var.lambda_parallelization_factor <= 10
    error_message = "lambda_parallelization_factor must be between 1 and 10."
  }
}

variable "lambda_maximum_retry_attempts" {
  description = "Retries of a batch that does not land before its shard moves on and the batch's range goes to the on-failure SQS queue. Landing failures are environmental (S3 down, access denied): keep it high enough to ride out an outage, -1 retries until the records expire."
  type        = number
  default     = 100

  validation {
    condition     = var.lambda_maximum_retry_attempts >= -1 && var.lambda_maximum_retry_attempts <= 10000
    error_message = "lambda_maximum_retry_attempts must be between -1 (forever) and 10000."
  }
}

variable "lambda_maximum_record_age_seconds" {
  description = "Records older than this are not retried but sent to the on-failure queue; -1 means up to the stream's retention."
  type        = number
  default     = -1

  validation {
    condition     = var.lambda_maximum_record_age_seconds == -1 || (var.lambda_maximum_record_age_seconds >= 60 && var.lambda_maximum_record_age_seconds <= 604800)
    error_message = "lambda_maximum_record_age_seconds must be -1 or between 60 and 604800."
  }
}

variable "lambda_starting_position" {
  description = "Where a new event source mapping starts: `TRIM_HORIZON` (oldest record kept) or `LATEST`."
  type        = string
  default     = "TRIM_HORIZON"

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST"], var.lambda_starting_position)
    error_message = "lambda_starting_position must be TRIM_HORIZON or LATEST."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of the function; null for none. Must exceed shards x parallelization factor or the shards wait on each other."
  type        = number
  default     = null
}

################################################################################
# Producer (Fluent Bit sidecars)
################################################################################

variable "producer_oidc_provider_arn" {
  description = "EKS cluster's IAM OIDC provider ARN: the producer role trusts `producer_service_accounts` through IRSA. Null: no IRSA trust."
  type        = string
  default     = null
}

variable "producer_service_accounts" {
  description = "Kubernetes service accounts (`namespace:name`) of the pods whose Fluent Bit sidecar sends to the stream, e.g. [\"api:api-log-shipper\"]."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for sa in var.producer_service_accounts : can(regex("^[a-z0-9-]+:[a-z0-9.-]+$", sa))])
    error_message = "producer_service_accounts entries must be \"namespace:name\"."
  }
}

variable "producer_ecs_tasks" {
  description = "Let ECS tasks of this account assume the producer role (as their task role), for Fluent Bit sidecars in ECS services."
  type        = bool
  default     = false
}

################################################################################
# SingleStore
################################################################################

variable "singlestore_principal_arn" {
  description = "AWS principal SingleStore's S3 pipeline assumes the role from (Helios: the ARN on the workspace group's Cloud Storage access page). Null: no SingleStore role."
  type        = string
  default     = null
}

variable "singlestore_external_id" {
  description = "External id the SingleStore role requires (sts:ExternalId), when the principal is shared by other customers. Null: none required."
  type        = string
  default     = null
  sensitive   = true
}

################################################################################
# Alarms
################################################################################

variable "create_alarm_topic" {
  description = "Create an SNS topic `<name>-alarms` for the alarms (subscribe to it yourself). Ignored when `alarm_topic_arn` is set."
  type        = bool
  default     = false
}

variable "alarm_topic_arn" {
  description = "Existing SNS topic ARN for the alarms. Null with create_alarm_topic = false: alarms without actions (visible in CloudWatch only)."
  type        = string
  default     = null
}

variable "iterator_age_alarm_ms" {
  description = "Alarm when the oldest unread record is older than this (ms): the consumer is falling behind."
  type        = number
  default     = 300000
}

variable "dead_letter_files_alarm" {
  description = "Alarm when more than this many dead-letter files land in 15 minutes (S3 request metrics on `dead_letters/`)."
  type        = number
  default     = 10
}

variable "alarm_topic_kms_key_id" {
  description = "KMS key for the alarm topic created by `create_alarm_topic`. Must be a customer managed key whose policy lets cloudwatch.amazonaws.com use it (CloudWatch cannot publish under aws/sns); null leaves the topic unencrypted."
  type        = string
  default     = null
}
