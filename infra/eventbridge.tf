resource "aws_cloudwatch_event_bus" "market_data" {
  name        = "eventbus-${var.project}-${var.environment}"
  description = "Market data events: raw from exchanges, validated by ingestion, alerts from processing."
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
