# Panel definitions are plain data; the widgets are built from them with for expressions.
locals {
  # AWS/Lambda metric => statistic; one panel per metric, one line per stage.
  dashboard_lambda_metrics = {
    Invocations = "Sum"
    Errors      = "Sum"
    Duration    = "p99"
    Throttles   = "Sum"
  }

  # AWS/Events metric => statistic; one panel per metric, one line per rule.
  dashboard_rule_metrics = {
    MatchedEvents     = "Sum"
    FailedInvocations = "Sum"
  }

  # AWS/DynamoDB metric => statistic; one panel per metric, one line per table.
  dashboard_table_metrics = {
    ConsumedReadCapacityUnits  = "Sum"
    ConsumedWriteCapacityUnits = "Sum"
  }

  # EMF metrics (src/telemetry/metric-names.ts): one panel each, one line per stage and statistic.
  dashboard_emf_panels = {
    "Latency from market (ms)"    = { metrics = ["LatencyFromMarket"], stats = ["p50", "p99"] }
    "Latency from ingestion (ms)" = { metrics = ["LatencyFromIngestion"], stats = ["p50", "p99"] }
    "Alerts and notifications"    = { metrics = ["AlertsRaised", "NotificationsSent"], stats = ["Sum"] }
    "Rejected and duplicates"     = { metrics = ["EventsRejected", "DuplicatesSkipped"], stats = ["Sum"] }
  }

  dashboard_widgets = concat(
    [
      for metric, stat in local.dashboard_lambda_metrics : {
        title   = "Lambda ${metric}"
        metrics = [for stage in local.stages : ["AWS/Lambda", metric, "FunctionName", module.stage[stage].function_name, { stat = stat, label = stage }]]
      }
    ],
    [
      {
        title   = "Dead-letter queue depth"
        metrics = [for stage in local.stages : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", module.stage[stage].queue_name, { stat = "Maximum", label = stage }]]
      }
    ],
    [
      for metric, stat in local.dashboard_rule_metrics : {
        title   = "EventBridge ${metric}"
        metrics = [for stage in local.stages : ["AWS/Events", metric, "EventBusName", aws_cloudwatch_event_bus.market_data.name, "RuleName", module.stage[stage].rule_name, { stat = stat, label = stage }]]
      }
    ],
    [
      for metric, stat in local.dashboard_table_metrics : {
        title   = "DynamoDB ${metric}"
        metrics = [for table, table_name in local.tables : ["AWS/DynamoDB", metric, "TableName", table_name, { stat = stat, label = table }]]
      }
    ],
    [
      for title, panel in local.dashboard_emf_panels : {
        title = title
        metrics = [
          for combination in setproduct(panel.metrics, tolist(local.stages), panel.stats) :
          [local.metrics_namespace, combination[0], "service", combination[1], "environment", var.environment, { stat = combination[2], label = join(" ", combination) }]
        ]
      }
    ]
  )
}

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = "dashboard-${var.project}-${var.environment}"
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.dashboard_widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = floor(index / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = widget.title
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          metrics = widget.metrics
        }
      }
    ]
  })
}
