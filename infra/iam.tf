# What each stage may do beyond its own dead-letter queue, log group and X-Ray traces (the stage module
# adds those), per delivery mode. One map per stage, keyed by statement id; each statement lists the
# actions each mode's code makes, so a review reads one block per function and a new grant is one entry
# here. A statement whose list is empty in the deployed mode is left out. The deploy rehearsal fails on
# an action a mode's run never makes, as on a call no action allows (docs/infra.md, IAM).
locals {
  ingestion_policy_statements = {
    # GetItem: a re-stamped resend reads the event its id was first stored with (docs/domain.md).
    StoreRawEvents = {
      resources = [aws_dynamodb_table.events.arn]
      actions = {
        direct = ["dynamodb:PutItem", "dynamodb:GetItem"]
        queued = ["dynamodb:PutItem", "dynamodb:GetItem"]
      }
    }
    # One PutItem per record (direct); a queued batch's records in BatchWriteItem, its own IAM action.
    WriteAuditRecords = {
      resources = [aws_dynamodb_table.audit.arn]
      actions   = { direct = ["dynamodb:PutItem"], queued = ["dynamodb:BatchWriteItem"] }
    }
    EmitValidatedEvents = {
      resources = [aws_cloudwatch_event_bus.market_data.arn]
      actions   = { direct = ["events:PutEvents"], queued = ["events:PutEvents"] }
    }
    ReadConfiguration = {
      resources = [
        aws_ssm_parameter.config["events-table"].arn,
        aws_ssm_parameter.config["audit-table"].arn,
        aws_ssm_parameter.config["event-bus-name"].arn,
        aws_ssm_parameter.config["events-retention-days"].arn,
        aws_ssm_parameter.config["audit-retention-days"].arn,
      ]
      actions = { direct = ["ssm:GetParameters"], queued = ["ssm:GetParameters"] }
    }
  }

  processing_policy_statements = {
    ReadSymbolHistory = {
      resources = ["${aws_dynamodb_table.events.arn}/index/symbol-timestamp-index"]
      actions   = { direct = ["dynamodb:Query"], queued = ["dynamodb:Query"] }
    }
    # GetItem: when the PROCESSED update finds no item (AWS returns the old item with a failed
    # condition, so only a missing one is read), to tell "missing" from "already processed".
    EnrichEvents = {
      resources = [aws_dynamodb_table.events.arn]
      actions = {
        direct = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
        queued = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
      }
    }
    # Direct mode: an event delivered by its rule writes with PutItem; a batch of wake-ups with
    # BatchWriteItem, as every queued batch does.
    WriteAuditRecords = {
      resources = [aws_dynamodb_table.audit.arn]
      actions = {
        direct = ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]
        queued = ["dynamodb:BatchWriteItem"]
      }
    }
    # An event that waits sends its wake-up (infra/wake-ups.tf).
    SendWakeUps = {
      resources = [aws_sqs_queue.wake_ups.arn]
      actions   = { direct = ["sqs:SendMessage"], queued = ["sqs:SendMessage"] }
    }
    # The wake-ups' event source mapping reads and deletes with the function's role.
    ConsumeWakeUps = {
      resources = [aws_sqs_queue.wake_ups.arn]
      actions = {
        direct = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        queued = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      }
    }
    EmitAlertEvents = {
      resources = [aws_cloudwatch_event_bus.market_data.arn]
      actions   = { direct = ["events:PutEvents"], queued = ["events:PutEvents"] }
    }
    ReadConfiguration = {
      resources = [
        aws_ssm_parameter.config["events-table"].arn,
        aws_ssm_parameter.config["audit-table"].arn,
        aws_ssm_parameter.config["event-bus-name"].arn,
        aws_ssm_parameter.config["alert-rules"].arn,
        aws_ssm_parameter.config["indicator-window"].arn,
        aws_ssm_parameter.config["lateness-bound-seconds"].arn,
        aws_ssm_parameter.config["wake-up-queue-url"].arn,
        aws_ssm_parameter.config["audit-retention-days"].arn,
      ]
      actions = { direct = ["ssm:GetParameters"], queued = ["ssm:GetParameters"] }
    }
  }

  notification_policy_statements = {
    # GetItem: a claim that fails reads the alert's state (a redelivered alert: already sent or in flight).
    MarkEventsNotified = {
      resources = [aws_dynamodb_table.events.arn]
      actions = {
        direct = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
        queued = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
      }
    }
    WriteAuditRecords = {
      resources = [aws_dynamodb_table.audit.arn]
      actions   = { direct = ["dynamodb:PutItem"], queued = ["dynamodb:BatchWriteItem"] }
    }
    PublishAlerts = {
      resources = [aws_sns_topic.alerts.arn]
      actions   = { direct = ["sns:Publish"], queued = ["sns:Publish"] }
    }
    EncryptAlerts = {
      resources = [aws_kms_key.sns.arn]
      actions   = { direct = ["kms:GenerateDataKey*", "kms:Decrypt"], queued = ["kms:GenerateDataKey*", "kms:Decrypt"] }
    }
    ReadConfiguration = {
      resources = [
        aws_ssm_parameter.config["events-table"].arn,
        aws_ssm_parameter.config["audit-table"].arn,
        aws_ssm_parameter.config["alert-topic-arn"].arn,
        aws_ssm_parameter.config["audit-retention-days"].arn,
      ]
      actions = { direct = ["ssm:GetParameters"], queued = ["ssm:GetParameters"] }
    }
  }

  # The statements of the deployed delivery mode, as the stage module takes them.
  stage_policy_statements = {
    for stage, statements in {
      ingestion    = local.ingestion_policy_statements
      processing   = local.processing_policy_statements
      notification = local.notification_policy_statements
      } : stage => {
      for sid, statement in statements : sid => {
        actions   = statement.actions[var.delivery_mode]
        resources = statement.resources
      } if length(statement.actions[var.delivery_mode]) > 0
    }
  }
}
