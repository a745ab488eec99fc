# Keys and indexes must match src/adapters/aws/tables.ts (test/infra/tables.test.ts keeps them in step).
locals {
  event_type_index_key = var.event_type_index_shards == 1 ? "event_type" : "event_type_shard"
}

resource "aws_dynamodb_table" "events" {
  name                        = "dynamodb-events-${var.environment}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "event_id"
  range_key                   = "timestamp"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "event_id"
    type = "S"
  }

  attribute {
    name = "timestamp"
    type = "N"
  }

  # event_type_index_shards = 1: the required index on event_type. Above 1: the same index keyed by
  # event_type_shard = "<type>#<shard>" instead (src/adapters/aws/tables.ts, eventsTableDefinition).
  dynamic "attribute" {
    for_each = [local.event_type_index_key]
    content {
      name = attribute.value
      type = "S"
    }
  }

  attribute {
    name = "symbol"
    type = "S"
  }

  dynamic "global_secondary_index" {
    for_each = [local.event_type_index_key]
    content {
      name            = "${global_secondary_index.value}-timestamp-index"
      hash_key        = global_secondary_index.value
      range_key       = "timestamp"
      projection_type = "ALL"
    }
  }

  # Keys, price and volume only: processing's and notification's updates never rewrite it (one write
  # unit less per event); readers that want the whole item get it from the table.
  global_secondary_index {
    name               = "symbol-timestamp-index"
    hash_key           = "symbol"
    range_key          = "timestamp"
    projection_type    = "INCLUDE"
    non_key_attributes = ["price", "volume", "raw_event_id", "ingested_at"]
  }

  # Enabled without kms_key_arn: encrypted with the AWS managed key aws/dynamodb.
  server_side_encryption {
    enabled = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # The functions stamp expires_at (epoch seconds) on every item they add: events_retention_days after
  # ingestion (src/adapters/aws/expiry.ts). Deleting an expired item costs no write units.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  tags = {
    TableType = "events"
  }

  lifecycle {
    # An archive replay of an event whose identity claim expired would store and alert it again.
    precondition {
      condition     = var.events_retention_days >= var.archive_retention_days
      error_message = "events_retention_days must be at least archive_retention_days: a replay from the archive must never meet an event whose identity claim has expired."
    }
  }
}

resource "aws_dynamodb_table" "audit" {
  name                        = "dynamodb-audit-${var.environment}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "audit_id"
  range_key                   = "timestamp"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "audit_id"
    type = "S"
  }

  attribute {
    name = "timestamp"
    type = "N"
  }

  attribute {
    name = "event_id"
    type = "S"
  }

  global_secondary_index {
    name            = "event_id-timestamp-index"
    hash_key        = "event_id"
    range_key       = "timestamp"
    projection_type = "ALL"
  }

  server_side_encryption {
    enabled = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # Every record carries expires_at: audit_retention_days after it was written.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  tags = {
    TableType = "audit"
  }
}
