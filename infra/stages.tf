# One instance of the stage module per pipeline stage: function, role, log group, dead-letter queue,
# rule, target, permission and alarms.
module "stage" {
  source   = "./modules/stage"
  for_each = local.stages

  stage       = each.key
  environment = var.environment

  bundle_dir   = "${path.module}/../dist/lambda/${each.key}"
  archive_path = "${path.module}/build/lambda-${each.key}.zip"

  memory_mb              = var.lambda_memory_mb
  timeout_seconds        = var.lambda_timeout_seconds
  reserved_concurrency   = var.reserved_concurrency
  retry_attempts         = var.lambda_retry_attempts
  target_retry_attempts  = var.target_retry_attempts
  max_event_age_seconds  = var.max_event_age_seconds
  log_retention_days     = var.log_retention_days
  log_level              = var.log_level
  log_sample_rate        = var.log_sample_rate
  enable_source_maps     = var.enable_source_maps
  tracing_path           = var.tracing_path
  parameter_prefix       = local.parameter_prefix
  parameters_max_age_sec = var.parameters_cache_seconds
  metrics_namespace      = local.metrics_namespace

  event_bus_name = aws_cloudwatch_event_bus.market_data.name
  event_pattern  = file("${path.module}/patterns/${each.key}.json")

  delivery_mode                 = var.delivery_mode
  queue_batch_size              = var.queue_batch_size
  queue_batching_window_seconds = var.queue_batching_window_seconds
  event_type_shards             = var.event_type_index_shards

  policy_statements = local.stage_policy_statements[each.key]
  alarm_topic_arn   = aws_sns_topic.alerts.arn
}
