# ---------------------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------------------
output "lambda_ingestion_function_name" {
  description = "Name of the ingestion function (validates and stores raw events)."
  value       = module.stage["ingestion"].function_name
}

output "lambda_ingestion_function_arn" {
  description = "ARN of the ingestion function."
  value       = module.stage["ingestion"].function_arn
}

output "lambda_ingestion_role_arn" {
  description = "ARN of the ingestion function's execution role."
  value       = module.stage["ingestion"].role_arn
}

output "lambda_processing_function_name" {
  description = "Name of the processing function (computes indicators and evaluates alert rules)."
  value       = module.stage["processing"].function_name
}

output "lambda_processing_function_arn" {
  description = "ARN of the processing function."
  value       = module.stage["processing"].function_arn
}

output "lambda_processing_role_arn" {
  description = "ARN of the processing function's execution role."
  value       = module.stage["processing"].role_arn
}

output "lambda_notification_function_name" {
  description = "Name of the notification function (publishes alerts to SNS)."
  value       = module.stage["notification"].function_name
}

output "lambda_notification_function_arn" {
  description = "ARN of the notification function."
  value       = module.stage["notification"].function_arn
}

output "lambda_notification_role_arn" {
  description = "ARN of the notification function's execution role."
  value       = module.stage["notification"].role_arn
}

# ---------------------------------------------------------------------------------------------------
# EventBridge
# ---------------------------------------------------------------------------------------------------
output "eventbridge_bus_name" {
  description = "Name of the custom bus producers put MarketData.Raw events on."
  value       = aws_cloudwatch_event_bus.market_data.name
}

output "eventbridge_bus_arn" {
  description = "ARN of the custom event bus."
  value       = aws_cloudwatch_event_bus.market_data.arn
}

output "eventbridge_rule_names" {
  description = "Names of the routing rules, by stage."
  value       = { for stage in local.stages : stage => module.stage[stage].rule_name }
}

output "eventbridge_archive_arn" {
  description = "ARN of the archive that keeps every event of the bus for replay."
  value       = aws_cloudwatch_event_archive.all_events.arn
}

output "eventbridge_schema_registry_name" {
  description = "Name of the schema registry holding the MarketData.Raw schema."
  value       = aws_schemas_registry.market_data.name
}

output "eventbridge_schema_name" {
  description = "Name of the published JSON Schema of MarketData.Raw events."
  value       = aws_schemas_schema.market_data_raw.name
}

# ---------------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------------
output "dynamodb_events_table_name" {
  description = "Name of the events table."
  value       = aws_dynamodb_table.events.name
}

output "dynamodb_events_table_arn" {
  description = "ARN of the events table."
  value       = aws_dynamodb_table.events.arn
}

output "dynamodb_audit_table_name" {
  description = "Name of the audit table."
  value       = aws_dynamodb_table.audit.name
}

output "dynamodb_audit_table_arn" {
  description = "ARN of the audit table."
  value       = aws_dynamodb_table.audit.arn
}

# ---------------------------------------------------------------------------------------------------
# SQS
# ---------------------------------------------------------------------------------------------------
output "sqs_ingestion_dlq_url" {
  description = "URL of the ingestion dead-letter queue."
  value       = module.stage["ingestion"].queue_url
  sensitive   = true
}

output "sqs_ingestion_dlq_arn" {
  description = "ARN of the ingestion dead-letter queue."
  value       = module.stage["ingestion"].queue_arn
}

output "sqs_processing_dlq_url" {
  description = "URL of the processing dead-letter queue."
  value       = module.stage["processing"].queue_url
  sensitive   = true
}

output "sqs_processing_dlq_arn" {
  description = "ARN of the processing dead-letter queue."
  value       = module.stage["processing"].queue_arn
}

output "sqs_notification_dlq_url" {
  description = "URL of the notification dead-letter queue."
  value       = module.stage["notification"].queue_url
  sensitive   = true
}

output "sqs_notification_dlq_arn" {
  description = "ARN of the notification dead-letter queue."
  value       = module.stage["notification"].queue_arn
}

output "sqs_processing_wake_up_queue_url" {
  description = "URL of the queue processing sends a waiting event's wake-up to (SSM parameter wake-up-queue-url)."
  value       = aws_sqs_queue.wake_ups.url
  sensitive   = true
}

output "sqs_processing_wake_up_queue_arn" {
  description = "ARN of the wake-up queue, whose event source mapping hands wake-ups back to the processing function."
  value       = aws_sqs_queue.wake_ups.arn
}

# ---------------------------------------------------------------------------------------------------
# SNS
# ---------------------------------------------------------------------------------------------------
output "sns_topic_arn" {
  description = "ARN of the alert topic (alerts and alarms are published here)."
  value       = aws_sns_topic.alerts.arn
  sensitive   = true
}

output "sns_topic_name" {
  description = "Name of the alert topic."
  value       = aws_sns_topic.alerts.name
}

output "sns_kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the alert topic."
  value       = aws_kms_key.sns.arn
  sensitive   = true
}

# ---------------------------------------------------------------------------------------------------
# CloudWatch
# ---------------------------------------------------------------------------------------------------
output "cloudwatch_log_group_names" {
  description = "Log groups of the functions, by stage."
  value       = { for stage in local.stages : stage => module.stage[stage].log_group_name }
}

output "cloudwatch_bus_log_group_name" {
  description = "Log group of the event bus's own logs (event_bus_log_level); null when the level is OFF."
  value       = local.bus_logging ? aws_cloudwatch_log_group.bus[0].name : null
}

output "cloudwatch_alarm_names" {
  description = "Names of every alarm: per stage, DynamoDB capacity, EventBridge failed invocations and end-to-end latency."
  value = concat(
    flatten([for stage in local.stages : module.stage[stage].alarm_names]),
    [for alarm in aws_cloudwatch_metric_alarm.table_capacity : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.failed_invocations : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.end_to_end_latency : alarm.alarm_name]
  )
}

output "cloudwatch_dashboard_name" {
  description = "Name of the CloudWatch dashboard of the pipeline."
  value       = aws_cloudwatch_dashboard.pipeline.dashboard_name
}

# ---------------------------------------------------------------------------------------------------
# SSM
# ---------------------------------------------------------------------------------------------------
output "ssm_parameter_names" {
  description = "Names of the configuration parameters the functions read."
  value       = [for parameter in aws_ssm_parameter.config : parameter.name]
}

output "ssm_parameter_prefix" {
  description = "SSM path of the configuration (MARKETFLOW_PARAMETER_PREFIX of every function)."
  value       = local.parameter_prefix
}

# ---------------------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------------------
output "environment" {
  description = "Environment suffix of every resource name."
  value       = var.environment
}

output "aws_region" {
  description = "Region the stack is deployed in."
  value       = local.region
}

output "aws_account_id" {
  description = "Account the stack is deployed in."
  value       = local.account_id
  sensitive   = true
}
