locals {
  # Any error, throttle or dead-lettered message is worth a look: thresholds are zero.
  function_alarms = {
    errors    = "Errors"
    throttles = "Throttles"
  }
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each = local.function_alarms

  alarm_name          = "alarm-${var.stage}-${each.key}-${var.environment}"
  alarm_description   = "${each.value} of ${local.function_name} in the last minute. Runbook: docs/runbook.md#alarm-stage-${each.key}-env"
  namespace           = "AWS/Lambda"
  metric_name         = each.value
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "dead_letter_depth" {
  alarm_name          = "alarm-${var.stage}-dlq-depth-${var.environment}"
  alarm_description   = "Messages waiting in the dead-letter queue of ${local.function_name}. Runbook: docs/runbook.md#alarm-stage-dlq-depth-env"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}
