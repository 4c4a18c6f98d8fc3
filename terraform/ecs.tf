################################################################################
# `shardline consume` workers on Fargate
################################################################################

resource "aws_ecs_cluster" "this" {
  count = local.ecs && var.ecs_cluster_arn == null ? 1 : 0

  name = var.name

  # The running-task alarm reads Container Insights.
  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = local.tags
}

locals {
  ecs_cluster_arn  = local.ecs ? coalesce(var.ecs_cluster_arn, try(aws_ecs_cluster.this[0].arn, null)) : null
  ecs_cluster_name = local.ecs ? element(split("/", local.ecs_cluster_arn), length(split("/", local.ecs_cluster_arn)) - 1) : null
  # What the image's HEALTHCHECK does, on the configured port: the image has Node, not curl.
  health_command = "fetch('http://127.0.0.1:${var.metrics_port}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
}

resource "aws_cloudwatch_log_group" "consumer" {
  count = local.ecs ? 1 : 0

  name              = "/shardline/${var.name}/consumer"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn

  tags = local.tags
}

resource "aws_ecs_task_definition" "consumer" {
  count = local.ecs ? 1 : 0

  family                   = "${var.name}-consumer"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.ecs_execution[0].arn
  task_role_arn            = aws_iam_role.consumer.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name      = "shardline"
      image     = var.image
      essential = true
      command   = ["consume", "--metrics-port", tostring(var.metrics_port)]
      environment = [
        { name = "SHARDLINE_CONFIG", value = jsonencode(local.consume_config) },
        { name = "SHARDLINE_LOG_LEVEL", value = "info" },
      ]
      portMappings = [{ containerPort = var.metrics_port, protocol = "tcp" }]
      # SIGTERM → land what is buffered, hand the leases over, exit 0; SIGKILL only after this.
      stopTimeout            = var.stop_timeout_seconds
      readonlyRootFilesystem = false
      healthCheck = var.container_health_check ? {
        command     = ["CMD", "node", "-e", local.health_command]
        interval    = 30
        timeout     = 5
        retries     = 3
        startPeriod = 60
      } : null
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.consumer[0].name
          awslogs-region        = local.region
          awslogs-stream-prefix = "consumer"
        }
      }
    }
  ])

  lifecycle {
    precondition {
      condition     = var.image != null
      error_message = "consumer = \"ecs\" needs `image`: the `shardline consume` image in ECR (see terraform/README.md)."
    }
    precondition {
      condition     = var.stop_timeout_seconds * 1000 > var.renewal_interval_ms * 2
      error_message = "stop_timeout_seconds must exceed two lease renewal intervals, or ECS kills workers before they hand their leases over."
    }
    precondition {
      condition     = var.renewal_interval_ms * 3 <= var.failover_time_ms
      error_message = "renewal_interval_ms must be at most a third of failover_time_ms (as `shardline consume` requires)."
    }
  }

  tags = local.tags
}

resource "aws_security_group" "consumer" {
  count = local.ecs && length(var.security_group_ids) == 0 ? 1 : 0

  name_prefix = "${var.name}-consumer-"
  description = "Shardline workers: no inbound; outbound to Kinesis, DynamoDB, S3, ECR and CloudWatch"
  vpc_id      = var.vpc_id

  egress {
    description = "AWS APIs over HTTPS (VPC endpoints or NAT)"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.vpc_id != null
      error_message = "Give `vpc_id` (for the security group created here) or `security_group_ids`."
    }
  }

  tags = local.tags
}

resource "aws_ecs_service" "consumer" {
  count = local.ecs ? 1 : 0

  name             = "${var.name}-consumer"
  cluster          = local.ecs_cluster_arn
  task_definition  = aws_ecs_task_definition.consumer[0].arn
  desired_count    = local.shard_based_workers
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  # A rolling deployment starts the new workers first (up to 200%); they take leases as the old
  # ones hand them over on SIGTERM. Never under 100%: no shard waits for a failover timeout.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = length(var.security_group_ids) > 0 ? var.security_group_ids : [aws_security_group.consumer[0].id]
    assign_public_ip = var.assign_public_ip
  }

  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"

  lifecycle {
    # Application Auto Scaling owns the count once the service exists.
    ignore_changes = [desired_count]

    precondition {
      condition     = length(var.subnet_ids) > 0
      error_message = "consumer = \"ecs\" needs `subnet_ids` for the Fargate tasks."
    }
  }

  tags = local.tags
}

resource "aws_appautoscaling_target" "consumer" {
  count = local.ecs ? 1 : 0

  service_namespace  = "ecs"
  resource_id        = "service/${local.ecs_cluster_name}/${aws_ecs_service.consumer[0].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  # Never fewer workers than the shards need; more on CPU, up to max_workers.
  min_capacity = local.shard_based_workers
  max_capacity = max(var.max_workers, local.shard_based_workers)
}

resource "aws_appautoscaling_policy" "consumer_cpu" {
  count = local.ecs ? 1 : 0

  name               = "${var.name}-consumer-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.consumer[0].service_namespace
  resource_id        = aws_appautoscaling_target.consumer[0].resource_id
  scalable_dimension = aws_appautoscaling_target.consumer[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.cpu_target_percent
    # Slow in, slower out: every change moves leases between workers.
    scale_out_cooldown = 120
    scale_in_cooldown  = 600

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
