locals {
  # The one stage list, shared with src/domain/event-types.ts (STAGES).
  stages = toset(jsondecode(file("${path.module}/config/stages.json")))

  # Every function reads its configuration from SSM under this prefix (src/config/parameters.ts).
  parameter_prefix = "/marketflow/${var.environment}"

  # Contract with src/telemetry/metric-names.ts.
  metrics_namespace = "MarketFlow"

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # The provider is configured with this region; data.aws_region would read it back, but under a
  # different attribute in provider 5 (.name) and 6 (.region).
  region = var.aws_region
}
