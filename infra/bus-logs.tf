# Event bus logging: EventBridge writes what it does with the bus's events to a log group of its own.
# At ERROR (the default) only what fails: an event it cannot ingest, a delivery to a rule's target
# that fails or is dead-lettered, which was otherwise visible only in a dead-letter queue. INFO and
# TRACE add the steps of every event (docs/infra.md, "Event bus logs"; priced by marketflow cost).
locals {
  bus_logging = var.event_bus_log_level != "OFF"

  # The records of a level and of the more severe ones, each log type through its delivery source.
  bus_log_types = {
    OFF   = []
    ERROR = ["ERROR_LOGS"]
    INFO  = ["ERROR_LOGS", "INFO_LOGS"]
    TRACE = ["ERROR_LOGS", "INFO_LOGS", "TRACE_LOGS"]
  }[var.event_bus_log_level]
}

# Vended logs go to /aws/vendedlogs/, whose resource policy CloudWatch Logs keeps short.
resource "aws_cloudwatch_log_group" "bus" {
  count = local.bus_logging ? 1 : 0

  name              = "/aws/vendedlogs/events/eventbus-${var.project}-${var.environment}"
  retention_in_days = var.log_retention_days
}

# The log delivery service writes to the group only for this bus's delivery sources.
resource "aws_cloudwatch_log_resource_policy" "bus" {
  count = local.bus_logging ? 1 : 0

  policy_name     = "logpolicy-eventbus-${var.environment}"
  policy_document = data.aws_iam_policy_document.bus_log_delivery[0].json
}

data "aws_iam_policy_document" "bus_log_delivery" {
  count = local.bus_logging ? 1 : 0

  statement {
    sid       = "LogDeliveryWritesBusLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.bus[0].arn}:log-stream:*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    # The delivery sources of this environment's bus (aws_cloudwatch_log_delivery_source.bus).
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:delivery-source:logsource-eventbus-*-${var.environment}"]
    }
  }
}

resource "aws_cloudwatch_log_delivery_source" "bus" {
  for_each = toset(local.bus_log_types)

  name         = "logsource-eventbus-${lower(trimsuffix(each.key, "_LOGS"))}-${var.environment}"
  log_type     = each.key
  resource_arn = aws_cloudwatch_event_bus.market_data.arn
}

resource "aws_cloudwatch_log_delivery_destination" "bus" {
  count = local.bus_logging ? 1 : 0

  name = "logdestination-eventbus-${var.environment}"

  delivery_destination_configuration {
    destination_resource_arn = aws_cloudwatch_log_group.bus[0].arn
  }
}

# One delivery per log type, made one after the other: CloudWatch Logs refuses concurrent changes to
# the deliveries of one destination.
resource "aws_cloudwatch_log_delivery" "bus_errors" {
  count = contains(local.bus_log_types, "ERROR_LOGS") ? 1 : 0

  delivery_source_name     = aws_cloudwatch_log_delivery_source.bus["ERROR_LOGS"].name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.bus[0].arn
  depends_on               = [aws_cloudwatch_log_resource_policy.bus]
}

resource "aws_cloudwatch_log_delivery" "bus_info" {
  count = contains(local.bus_log_types, "INFO_LOGS") ? 1 : 0

  delivery_source_name     = aws_cloudwatch_log_delivery_source.bus["INFO_LOGS"].name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.bus[0].arn
  depends_on               = [aws_cloudwatch_log_delivery.bus_errors]
}

resource "aws_cloudwatch_log_delivery" "bus_trace" {
  count = contains(local.bus_log_types, "TRACE_LOGS") ? 1 : 0

  delivery_source_name     = aws_cloudwatch_log_delivery_source.bus["TRACE_LOGS"].name
  delivery_destination_arn = aws_cloudwatch_log_delivery_destination.bus[0].arn
  depends_on               = [aws_cloudwatch_log_delivery.bus_info]
}
