# A small, complete deployment: an on-demand stream, the ECS consumer in an existing VPC's private
# subnets, Fluent Bit sidecars on EKS through IRSA, SingleStore Helios reading the lake, alarms
# to an SNS topic. `consumer = "lambda"` (with lambda_image_uri) swaps the workers for a function.

provider "aws" {
  region = var.region
}

variable "region" {
  description = "AWS region of the deployment."
  type        = string
  default     = "eu-west-1"
}

variable "image" {
  description = "The `shardline consume` image pushed to ECR (see ../../README.md)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the workers."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (NAT or VPC endpoints) of the workers."
  type        = list(string)
}

variable "eks_oidc_provider_arn" {
  description = "IAM OIDC provider of the EKS cluster whose pods run the Fluent Bit sidecar."
  type        = string
}

variable "singlestore_principal_arn" {
  description = "The AWS principal of your SingleStore workspace group (Cloud Storage access page)."
  type        = string
}

module "shardline" {
  source = "../.."

  name     = "api-logs"
  consumer = "ecs"

  image      = var.image
  vpc_id     = var.vpc_id
  subnet_ids = var.private_subnet_ids

  producer_oidc_provider_arn = var.eks_oidc_provider_arn
  producer_service_accounts  = ["api:api-log-shipper"]

  singlestore_principal_arn = var.singlestore_principal_arn

  dead_letter_expiration_days = 14
  create_alarm_topic          = true

  pipeline_config = {
    redaction = { headerAllowlist = ["host", "accept", "content-type", "user-agent", "x-request-id"] }
  }

  tags = {
    team = "platform"
  }
}
