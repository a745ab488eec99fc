# Names and meanings: src/config/parameters.ts. The functions get only the prefix as an environment
# variable and read these at run time, so a change needs no redeploy.
locals {
  parameters = {
    "events-table" = {
      value       = aws_dynamodb_table.events.name
      description = "Name of the events table."
    }
    "audit-table" = {
      value       = aws_dynamodb_table.audit.name
      description = "Name of the audit table."
    }
    "event-bus-name" = {
      value       = aws_cloudwatch_event_bus.market_data.name
      description = "Name of the market data event bus."
    }
    "alert-topic-arn" = {
      value       = aws_sns_topic.alerts.arn
      description = "ARN of the alert topic."
    }
    "alert-rules" = {
      value       = file("${path.module}/config/alert-rules.json")
      description = "Alert rules (JSON) the processing function evaluates."
    }
    "indicator-window" = {
      value       = tostring(var.indicator_window)
      description = "Number of events of a symbol the indicators are computed over."
    }
    "lateness-bound-seconds" = {
      value       = tostring(local.lateness_bound_seconds)
      description = "Whole seconds an event waits for a missing or unprocessed earlier event of its symbol."
    }
    "wake-up-queue-url" = {
      value       = aws_sqs_queue.wake_ups.url
      description = "URL of the queue a waiting event's wake-up is sent to."
    }
    "events-retention-days" = {
      value       = tostring(var.events_retention_days)
      description = "Days an event and its identity claim are kept (time to live from ingestion)."
    }
    "audit-retention-days" = {
      value       = tostring(var.audit_retention_days)
      description = "Days an audit record is kept (time to live from its write)."
    }
  }
}

resource "aws_ssm_parameter" "config" {
  for_each    = local.parameters
  name        = "${local.parameter_prefix}/${each.key}"
  description = each.value.description
  type        = "String"
  tier        = "Intelligent-Tiering"
  value       = each.value.value
}
