locals {
  stages = toset(["ingestion", "processing", "notification"])

  # Every function reads its configuration from SSM under this prefix (src/config/parameters.ts).
  parameter_prefix = "/marketflow/${var.environment}"

  # Contract with src/telemetry/metric-names.ts.
  metrics_namespace = "MarketFlow"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
}
