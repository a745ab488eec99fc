resource "aws_cloudwatch_event_bus" "market_data" {
  name        = "eventbus-${var.project}-${var.environment}"
  description = "Market data events: raw from exchanges, validated by ingestion, alerts from processing."

  # Which records EventBridge sends to the bus's log deliveries (bus-logs.tf).
  log_config {
    level          = var.event_bus_log_level
    include_detail = var.event_bus_log_include_detail
  }
}

# The rules route on source and detail-type, which any principal allowed events:PutEvents on the bus
# could set: without this policy it could forge a MarketData.Alert and page a human. Explicit denies
# (they also bind principals of this account, whose own policies allow PutEvents) keep the pipeline's
# internal events to the roles that emit them. AWS services (archive replays) are not IAM principals
# of the account and stay exempt. See docs/infra.md, "Who may put the pipeline's events".
resource "aws_cloudwatch_event_bus_policy" "internal_events" {
  event_bus_name = aws_cloudwatch_event_bus.market_data.name
  policy         = data.aws_iam_policy_document.internal_events.json
}

locals {
  ingestion_publishers  = concat([module.stage["ingestion"].role_arn], var.internal_event_publishers)
  processing_publishers = concat([module.stage["processing"].role_arn], var.internal_event_publishers)

  # Statement id => which entries it denies (one condition on the event) and to whom they stay allowed.
  internal_event_denials = {
    OnlyStagesUseMarketflowSources = {
      test     = "ForAnyValue:StringLike"
      variable = "events:source"
      values   = ["marketflow.*"]
      allowed  = distinct(concat(local.ingestion_publishers, local.processing_publishers))
    }
    OnlyIngestionPutsValidated = {
      test     = "ForAnyValue:StringEquals"
      variable = "events:detail-type"
      values   = ["MarketData.Validated"]
      allowed  = local.ingestion_publishers
    }
    OnlyProcessingPutsAlerts = {
      test     = "ForAnyValue:StringEquals"
      variable = "events:detail-type"
      values   = ["MarketData.Alert"]
      allowed  = local.processing_publishers
    }
  }
}

data "aws_iam_policy_document" "internal_events" {
  dynamic "statement" {
    for_each = local.internal_event_denials

    content {
      sid       = statement.key
      effect    = "Deny"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.market_data.arn]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = statement.value.test
        variable = statement.value.variable
        values   = statement.value.values
      }

      condition {
        test     = "StringNotEquals"
        variable = "aws:PrincipalArn"
        values   = statement.value.allowed
      }

      condition {
        test     = "Bool"
        variable = "aws:PrincipalIsAWSService"
        values   = ["false"]
      }
    }
  }
}

# No event_pattern: the archive keeps every event of the bus, for compliance and replay.
resource "aws_cloudwatch_event_archive" "all_events" {
  name             = "archive-events-${var.environment}"
  description      = "Every event of the market data bus, kept for replay."
  event_source_arn = aws_cloudwatch_event_bus.market_data.arn
  retention_days   = var.archive_retention_days
}

resource "aws_schemas_registry" "market_data" {
  name        = "registry-${var.project}-${var.environment}"
  description = "Schemas of the events on the market data bus."
}

resource "aws_schemas_schema" "market_data_raw" {
  name          = "schema-market-data-raw-${var.environment}"
  registry_name = aws_schemas_registry.market_data.name
  type          = "JSONSchemaDraft4"
  description   = "Detail of MarketData.Raw events, generated from the TypeScript domain model."
  content       = file("${path.module}/../schemas/market-data-raw.schema.json")
}
