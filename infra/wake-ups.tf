# Wake-ups, in both delivery modes: an event whose predecessor is missing or not processed yet waits,
# and processing sends its MarketData.Validated event to this queue with a delay
# (src/adapters/aws/sqs-wake-ups.ts). The mapping hands it back to the processing function as an SQS
# batch. The wait ends at the lateness bound (SSM parameter lateness-bound-seconds): past it the series
# goes on across the gap.
locals {
  # A message handed to a function is invisible this long: longer than a batch can run (as the
  # delivery queues of modules/stage/queued.tf).
  queue_visibility_timeout_seconds = 6 * var.lambda_timeout_seconds

  # The default bound covers the retries of the earlier event's ingestion. Direct: Lambda retries a
  # failed invocation after about 1 and 2 more minutes. Queued: SQS hands a failed record back after
  # the delivery queue's visibility timeout, twice.
  derived_lateness_bound_seconds = {
    direct = 240
    queued = min(3600, 2 * local.queue_visibility_timeout_seconds + 60)
  }
  lateness_bound_seconds = var.lateness_bound_seconds != null ? var.lateness_bound_seconds : local.derived_lateness_bound_seconds[var.delivery_mode]

  # SQS holds a message back at most 15 minutes (MAX_DELAY_SECONDS in src/adapters/aws/sqs-wake-ups.ts):
  # a longer wait is made of several wake-ups.
  longest_wake_up_delay_seconds = 900
}

# Kept long enough that a wake-up is dead-lettered after its last receive rather than dropped before:
# its longest delay, every receive's visibility timeout, and max_event_age_seconds of backlog (what
# the delivery queues keep).
resource "aws_sqs_queue" "wake_ups" {
  name                       = "sqs-processing-wake-ups-${var.environment}"
  message_retention_seconds  = local.longest_wake_up_delay_seconds + (1 + var.lambda_retry_attempts) * local.queue_visibility_timeout_seconds + var.max_event_age_seconds
  visibility_timeout_seconds = local.queue_visibility_timeout_seconds
  sqs_managed_sse_enabled    = true

  # A wake-up that fails 1 + lambda_retry_attempts times goes where processing's failures go.
  redrive_policy = jsonencode({
    deadLetterTargetArn = module.stage["processing"].queue_arn
    maxReceiveCount     = 1 + var.lambda_retry_attempts
  })
}

resource "aws_lambda_event_source_mapping" "wake_ups" {
  event_source_arn        = aws_sqs_queue.wake_ups.arn
  function_name           = module.stage["processing"].function_arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  # At most as many batches at once as the function's reserved concurrency (2 is the SQS minimum).
  scaling_config {
    maximum_concurrency = max(2, var.reserved_concurrency)
  }

  # The role must be able to read the queue before the mapping is created.
  depends_on = [module.stage]
}
