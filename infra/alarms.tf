# Stage alarms (errors, throttles, dead-letter queue depth) live in the stage module; these watch the
# shared parts. Every alarm notifies the alert topic.
locals {
  tables = {
    events = aws_dynamodb_table.events.name
    audit  = aws_dynamodb_table.audit.name
  }

  table_capacity_metrics = {
    read  = "ConsumedReadCapacityUnits"
    write = "ConsumedWriteCapacityUnits"
  }

  table_capacity_alarms = merge([
    for table, table_name in local.tables : {
      for kind, metric in local.table_capacity_metrics : "${table}-${kind}" => {
        table_name = table_name
        metric     = metric
      }
    }
  ]...)

  # LatencyFromIngestion (src/telemetry/metric-names.ts) is emitted by the stages after ingestion.
  latency_alarm_services = toset(["processing", "notification"])
}

resource "aws_cloudwatch_metric_alarm" "table_capacity" {
  for_each = local.table_capacity_alarms

  alarm_name          = "alarm-dynamodb-${each.key}-${var.environment}"
  alarm_description   = "${each.value.metric} of ${each.value.table_name} per minute (informational: on-demand tables scale). Runbook: docs/runbook.md#alarm-dynamodb-table-kind-env"
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value.metric
  dimensions          = { TableName = each.value.table_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = var.dynamodb_capacity_alarm_units
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "failed_invocations" {
  for_each = local.stages

  alarm_name          = "alarm-${each.key}-failed-invocations-${var.environment}"
  alarm_description   = "EventBridge could not invoke the ${each.key} function (events went to its dead-letter queue). Runbook: docs/runbook.md#alarm-stage-failed-invocations-env"
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  dimensions          = { EventBusName = aws_cloudwatch_event_bus.market_data.name, RuleName = module.stage[each.key].rule_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "end_to_end_latency" {
  for_each = local.latency_alarm_services

  alarm_name          = "alarm-${each.key}-latency-${var.environment}"
  alarm_description   = "p99 of the time from ingestion to the end of the ${each.key} stage is above ${var.latency_alarm_threshold_ms} ms. Runbook: docs/runbook.md#alarm-stage-latency-env"
  namespace           = local.metrics_namespace
  metric_name         = "LatencyFromIngestion"
  dimensions          = { service = each.key, environment = var.environment }
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = var.latency_alarm_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}
