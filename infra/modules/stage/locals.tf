locals {
  function_name = "lambda-${var.stage}-${var.environment}"

  # Powertools samples DEBUG logging per invocation (POWERTOOLS_LOGGER_SAMPLE_RATE).
  log_sampled = var.log_sample_rate > 0

  # Every function may send to its own queue (failure destination), write to its own log group and
  # send X-Ray traces. The X-Ray put actions do not support resource-level permissions, so theirs is
  # the only statement with Resource "*".
  own_policy_statements = {
    SendToOwnDeadLetterQueue = {
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.dead_letter.arn]
    }
    WriteOwnLogs = {
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
    }
    SendTraces = {
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }

  queued = var.delivery_mode == "queued"

  # Queued mode: the event source mapping reads and deletes on the function's own delivery queue only.
  queued_policy_statements = local.queued ? {
    ConsumeOwnDeliveryQueue = {
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources = [aws_sqs_queue.delivery[0].arn]
    }
  } : {}

  policy_statements = merge(local.own_policy_statements, local.queued_policy_statements, var.policy_statements)
}
