# What each stage may do beyond its own dead-letter queue, log group and X-Ray traces (the stage module
# adds those). One map per stage, keyed by statement id, so a review reads one block per function.
locals {
  ingestion_policy_statements = {
    # GetItem: a re-stamped resend reads the event its id was first stored with (docs/domain.md).
    StoreRawEvents = {
      actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
      resources = [aws_dynamodb_table.events.arn]
    }
    # PutItem one by one (direct); BatchWriteItem, its own IAM action, for a queued batch's records.
    WriteAuditRecords = {
      actions   = ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]
      resources = [aws_dynamodb_table.audit.arn]
    }
    EmitValidatedEvents = {
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.market_data.arn]
    }
    ReadConfiguration = {
      actions = ["ssm:GetParameters"]
      resources = [
        aws_ssm_parameter.config["events-table"].arn,
        aws_ssm_parameter.config["audit-table"].arn,
        aws_ssm_parameter.config["event-bus-name"].arn,
      ]
    }
  }

  processing_policy_statements = {
    ReadSymbolHistory = {
      actions   = ["dynamodb:Query"]
      resources = ["${aws_dynamodb_table.events.arn}/index/symbol-timestamp-index"]
    }
    EnrichEvents = {
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources = [aws_dynamodb_table.events.arn]
    }
    # PutItem one by one (direct); BatchWriteItem, its own IAM action, for a queued batch's records.
    WriteAuditRecords = {
      actions   = ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]
      resources = [aws_dynamodb_table.audit.arn]
    }
    EmitAlertEvents = {
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.market_data.arn]
    }
    ReadConfiguration = {
      actions = ["ssm:GetParameters"]
      resources = [
        aws_ssm_parameter.config["events-table"].arn,
        aws_ssm_parameter.config["audit-table"].arn,
        aws_ssm_parameter.config["event-bus-name"].arn,
        aws_ssm_parameter.config["alert-rules"].arn,
        aws_ssm_parameter.config["indicator-window"].arn,
      ]
    }
  }

  notification_policy_statements = {
    MarkEventsNotified = {
      actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources = [aws_dynamodb_table.events.arn]
    }
    # PutItem one by one (direct); BatchWriteItem, its own IAM action, for a queued batch's records.
    WriteAuditRecords = {
      actions   = ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]
      resources = [aws_dynamodb_table.audit.arn]
    }
    PublishAlerts = {
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.alerts.arn]
    }
    EncryptAlerts = {
      actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
      resources = [aws_kms_key.sns.arn]
    }
    ReadConfiguration = {
      actions = ["ssm:GetParameters"]
      resources = [
        aws_ssm_parameter.config["events-table"].arn,
        aws_ssm_parameter.config["audit-table"].arn,
        aws_ssm_parameter.config["alert-topic-arn"].arn,
      ]
    }
  }

  stage_policy_statements = {
    ingestion    = local.ingestion_policy_statements
    processing   = local.processing_policy_statements
    notification = local.notification_policy_statements
  }
}
