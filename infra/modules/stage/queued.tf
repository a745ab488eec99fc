# Queued delivery (delivery_mode = "queued"): the rule targets this queue instead of the function, and
# an event source mapping hands the function batches. A record the function reports failed is received
# again after the visibility timeout; after 1 + retry_attempts receives SQS moves it to the stage's
# dead-letter queue, as Lambda does after its retries in direct mode.
resource "aws_sqs_queue" "delivery" {
  count = local.queued ? 1 : 0

  name                       = "sqs-${var.stage}-delivery-${var.environment}"
  message_retention_seconds  = var.max_event_age_seconds
  visibility_timeout_seconds = 6 * var.timeout_seconds
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = 1 + var.retry_attempts
  })
}

resource "aws_sqs_queue_policy" "delivery" {
  count = local.queued ? 1 : 0

  queue_url = aws_sqs_queue.delivery[0].id
  policy    = data.aws_iam_policy_document.delivery[0].json
}

data "aws_iam_policy_document" "delivery" {
  count = local.queued ? 1 : 0

  statement {
    sid       = "EventBridgeRuleDelivers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.delivery[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.this.arn]
    }
  }
}

resource "aws_lambda_event_source_mapping" "delivery" {
  count = local.queued ? 1 : 0

  event_source_arn                   = aws_sqs_queue.delivery[0].arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.queue_batch_size
  maximum_batching_window_in_seconds = var.queue_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  # At most as many batches at once as the function's reserved concurrency (2 is the SQS minimum).
  scaling_config {
    maximum_concurrency = max(2, var.reserved_concurrency)
  }

  lifecycle {
    precondition {
      condition     = var.queue_batch_size <= 10 || var.queue_batching_window_seconds >= 1
      error_message = "An SQS batch size above 10 needs queue_batching_window_seconds of at least 1."
    }
  }

  # The role must be able to read the queue before the mapping is created.
  depends_on = [aws_iam_role_policy.this]
}
