resource "aws_cloudwatch_event_rule" "this" {
  name           = "rule-${var.stage}-${var.environment}"
  description    = "Routes the events the ${var.stage} stage consumes to its function."
  event_bus_name = var.event_bus_name
  event_pattern  = var.event_pattern
}

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = var.event_bus_name
  target_id      = local.function_name
  # Queued mode: the stage's delivery queue (queued.tf), which the function consumes in batches.
  arn = local.queued ? aws_sqs_queue.delivery[0].arn : aws_lambda_function.this.arn

  retry_policy {
    maximum_retry_attempts       = var.target_retry_attempts
    maximum_event_age_in_seconds = var.max_event_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }
}

resource "aws_lambda_permission" "events" {
  # Queued mode: EventBridge sends to the queue and never invokes the function.
  count = local.queued ? 0 : 1

  statement_id  = "AllowInvokeFromEventBridgeRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}
