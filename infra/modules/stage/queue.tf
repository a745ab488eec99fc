# Receives what could not be processed: invocations that failed after the Lambda retries
# (dead_letter_config) and events EventBridge could not deliver.
resource "aws_sqs_queue" "dead_letter" {
  name                       = "sqs-${var.stage}-dlq-${var.environment}"
  message_retention_seconds  = 345600
  visibility_timeout_seconds = var.timeout_seconds
  sqs_managed_sse_enabled    = true
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = data.aws_iam_policy_document.dead_letter.json
}

data "aws_iam_policy_document" "dead_letter" {
  statement {
    sid       = "EventBridgeDeliversFailedTargets"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]

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
