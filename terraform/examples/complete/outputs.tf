output "stream_name" {
  description = "Stream the Fluent Bit sidecars send to."
  value       = module.shardline.stream_name
}

output "lake_uri" {
  description = "Where Parquet lands."
  value       = module.shardline.lake_uri
}

output "producer_role_arn" {
  description = "Annotate the sidecars' service account with it."
  value       = module.shardline.producer_role_arn
}

output "fluent_bit_env" {
  description = "Environment of the Fluent Bit sidecar."
  value       = module.shardline.fluent_bit_env
}

output "warehouse_init_config" {
  description = "pipeline.json of `shardline warehouse init`."
  value       = module.shardline.warehouse_init_config
}

output "warehouse_init_command" {
  description = "Creates the SingleStore tables and pipeline."
  value       = module.shardline.warehouse_init_command
}
