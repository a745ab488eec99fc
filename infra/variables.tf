variable "environment" {
  description = "Environment suffix of every resource name, for example dev, staging or prod."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.environment))
    error_message = "environment must contain only lowercase letters, digits and hyphens."
  }
}

variable "aws_region" {
  description = "AWS region every resource is created in."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as us-east-1."
  }
}

variable "project" {
  description = "Project name, used in the Project tag and in the names of project-wide resources."
  type        = string
  default     = "marketflow"

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.project))
    error_message = "project must contain only lowercase letters, digits and hyphens."
  }
}

variable "cost_center" {
  description = "Value of the CostCenter tag on every resource."
  type        = string
  default     = "market-data"

  validation {
    condition     = length(trimspace(var.cost_center)) > 0
    error_message = "cost_center must not be empty."
  }
}

variable "notification_email" {
  description = "E-mail address subscribed to the alert topic; null creates no subscription. The address must confirm the subscription."
  type        = string
  default     = null

  validation {
    condition     = var.notification_email == null || can(regex("^[^@[:space:]]+@[^@[:space:]]+\\.[a-zA-Z]{2,}$", var.notification_email))
    error_message = "notification_email must be an e-mail address such as ops@example.com, or null."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the functions' logs; one of the values CloudWatch Logs accepts."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of each pipeline function in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "lambda_memory_mb must be a whole number between 128 and 10240."
  }
}

variable "lambda_timeout_seconds" {
  description = "Timeout of each pipeline function in seconds; also the visibility timeout of its dead-letter queue."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be a whole number between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of each pipeline function."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 1000 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be a whole number between 1 and 1000 (0 would stop the function)."
  }
}

variable "lambda_retry_attempts" {
  description = "Retries of a failed asynchronous invocation before the event goes to the stage's dead-letter queue."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.lambda_retry_attempts)
    error_message = "lambda_retry_attempts must be 0, 1 or 2 (the Lambda maximum)."
  }
}

variable "target_retry_attempts" {
  description = "Retries of EventBridge when it cannot deliver an event to a function, before the event goes to the stage's dead-letter queue."
  type        = number
  default     = 8

  validation {
    condition     = var.target_retry_attempts >= 0 && var.target_retry_attempts <= 185 && floor(var.target_retry_attempts) == var.target_retry_attempts
    error_message = "target_retry_attempts must be a whole number between 0 and 185."
  }
}

variable "max_event_age_seconds" {
  description = "Oldest age of an event that Lambda (asynchronous retries) and EventBridge (delivery retries) still try to deliver."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_event_age_seconds >= 60 && var.max_event_age_seconds <= 21600
    error_message = "max_event_age_seconds must be between 60 and 21600."
  }
}

variable "deletion_protection" {
  description = "Protect the DynamoDB tables from deletion; false keeps the stack destroyable."
  type        = bool
  default     = false
}

variable "archive_retention_days" {
  description = "Days the EventBridge archive keeps every event of the bus for replay."
  type        = number
  default     = 90

  validation {
    condition     = var.archive_retention_days >= 1 && floor(var.archive_retention_days) == var.archive_retention_days
    error_message = "archive_retention_days must be a whole number of at least 1."
  }
}

variable "event_bus_log_level" {
  description = "What EventBridge logs of the bus's events to /aws/vendedlogs/events/eventbus-<project>-<env>: OFF, ERROR (default: events it cannot ingest or deliver), INFO (also the main steps of every event) or TRACE (every step). INFO and TRACE log every event, priced by marketflow cost."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO", "TRACE"], var.event_bus_log_level)
    error_message = "event_bus_log_level must be OFF, ERROR, INFO or TRACE."
  }
}

variable "event_bus_log_include_detail" {
  description = "Whether the bus's log records carry the event and the target's input and request (FULL) or not (NONE, default: market data stays out of the logs and a record is about a third the size)."
  type        = string
  default     = "NONE"

  validation {
    condition     = contains(["NONE", "FULL"], var.event_bus_log_include_detail)
    error_message = "event_bus_log_include_detail must be NONE or FULL."
  }
}

variable "events_retention_days" {
  description = "Days the events table keeps an event (and its identity claim) after ingestion; DynamoDB's time to live then deletes it (SSM parameter events-retention-days). Default six years, as the audit trail (docs/infra.md, Retention). At least archive_retention_days, so that a replay from the archive never meets an event whose identity claim expired."
  type        = number
  default     = 2192

  validation {
    condition     = var.events_retention_days >= 1 && var.events_retention_days <= 36500 && floor(var.events_retention_days) == var.events_retention_days
    error_message = "events_retention_days must be a whole number of days from 1 to 36500."
  }
}

variable "audit_retention_days" {
  description = "Days the audit table keeps a record after it was written; DynamoDB's time to live then deletes it (SSM parameter audit-retention-days). Default six years: SEC 17a-4 and FINRA 4511 (docs/infra.md, Retention)."
  type        = number
  default     = 2192

  validation {
    condition     = var.audit_retention_days >= 1 && var.audit_retention_days <= 36500 && floor(var.audit_retention_days) == var.audit_retention_days
    error_message = "audit_retention_days must be a whole number of days from 1 to 36500."
  }
}

variable "indicator_window" {
  description = "Number of events of a symbol the indicators are computed over (SSM parameter indicator-window)."
  type        = number
  default     = 20

  validation {
    condition     = var.indicator_window >= 2 && var.indicator_window <= 500 && floor(var.indicator_window) == var.indicator_window
    error_message = "indicator_window must be a whole number between 2 and 500."
  }
}

variable "lateness_bound_seconds" {
  description = "Whole seconds, from its ingestion, that processing lets an event wait for a missing or unprocessed earlier event of its symbol (SSM parameter lateness-bound-seconds); past it the series goes on across the gap. null (default): derived from delivery_mode so that it covers the retries of the earlier event's ingestion: direct 240 (Lambda retries a failed invocation after about 1 and 2 more minutes), queued 2 x the delivery queue's visibility timeout (6 x lambda_timeout_seconds) + 60, at most 3600."
  type        = number
  default     = null

  validation {
    condition     = var.lateness_bound_seconds == null ? true : var.lateness_bound_seconds >= 0 && var.lateness_bound_seconds <= 3600 && floor(var.lateness_bound_seconds) == var.lateness_bound_seconds
    error_message = "lateness_bound_seconds must be null (derived from delivery_mode) or a whole number of seconds from 0 to 3600."
  }
}

variable "parameters_cache_seconds" {
  description = "Seconds the functions cache SSM parameters before reading them again (POWERTOOLS_PARAMETERS_MAX_AGE)."
  type        = number
  default     = 60

  validation {
    condition     = var.parameters_cache_seconds >= 0 && var.parameters_cache_seconds <= 86400
    error_message = "parameters_cache_seconds must be between 0 and 86400."
  }
}

variable "log_level" {
  description = "Log level of the functions (Powertools and Lambda application log level)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "log_sample_rate" {
  description = "Share of invocations (0 to 1) that log at DEBUG, as Powertools samples them (POWERTOOLS_LOGGER_SAMPLE_RATE): the per-event lines for a sample of the traffic, errors always. Above 0 the functions log in Lambda's Text format, because with the JSON format Lambda's application log level (log_level) would drop the sampled DEBUG lines; Powertools still writes each line as JSON."
  type        = number
  default     = 0

  validation {
    condition     = var.log_sample_rate >= 0 && var.log_sample_rate <= 1
    error_message = "log_sample_rate must be between 0 and 1."
  }
}

variable "enable_source_maps" {
  description = "Run the functions with NODE_OPTIONS=--enable-source-maps, so that stack traces in the logs point at the TypeScript sources. Off by default: Node then reads and parses each bundle's source map at every cold start (about 17 ms more, measured by npm run bench -- --only cold-start)."
  type        = bool
  default     = false
}

variable "tracing_path" {
  description = "How the functions trace (MARKETFLOW_TRACING): opentelemetry (default) exports OTLP, SigV4-signed, to X-Ray's OTLP endpoint, which needs CloudWatch Transaction Search enabled in the account; powertools uses Powertools Tracer on the X-Ray SDK (end of support 2027-02-25) through Lambda's X-Ray daemon. Both give the same handler span, annotations and AWS call spans; docs/infra.md, Tracing, says why the default."
  type        = string
  default     = "opentelemetry"

  validation {
    condition     = contains(["opentelemetry", "powertools"], var.tracing_path)
    error_message = "tracing_path must be \"opentelemetry\" or \"powertools\"."
  }
}

variable "latency_alarm_threshold_ms" {
  description = "p99 of LatencyFromIngestion (milliseconds) above which the end-to-end latency alarm fires."
  type        = number
  default     = 1000

  validation {
    condition     = var.latency_alarm_threshold_ms > 0
    error_message = "latency_alarm_threshold_ms must be positive."
  }
}

variable "dynamodb_capacity_alarm_units" {
  description = "Consumed read or write capacity units per minute of one table above which its capacity alarm fires (on-demand tables scale; the alarm is informational)."
  type        = number
  default     = 30000

  validation {
    condition     = var.dynamodb_capacity_alarm_units > 0
    error_message = "dynamodb_capacity_alarm_units must be positive."
  }
}

variable "internal_event_publishers" {
  description = "IAM role ARNs besides the ingestion and processing roles that may put MarketData.Validated, MarketData.Alert and marketflow.* events on the bus, e.g. the operator role that runs `marketflow dlq redrive --aws` for processing and notification dead letters."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.internal_event_publishers : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", arn))])
    error_message = "Each internal event publisher must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)."
  }
}

variable "delivery_mode" {
  description = "direct (default, the requirements' design): each rule invokes its function per event. queued: each rule sends to a per-stage SQS queue that the function consumes in batches (for bursts far above the usual peak)."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "queued"], var.delivery_mode)
    error_message = "delivery_mode must be \"direct\" or \"queued\"."
  }
}

variable "queue_batch_size" {
  description = "Queued mode: most records an invocation receives (SQS event source mapping batch size)."
  type        = number
  default     = 10

  validation {
    condition     = var.queue_batch_size >= 1 && var.queue_batch_size <= 10000 && floor(var.queue_batch_size) == var.queue_batch_size
    error_message = "queue_batch_size must be a whole number between 1 and 10000."
  }
}

variable "queue_batching_window_seconds" {
  description = "Queued mode: longest time the event source mapping waits to fill a batch (0: hand over what is there). Above 0 with a batch size above 10 is required by Lambda."
  type        = number
  default     = 0

  validation {
    condition     = var.queue_batching_window_seconds >= 0 && var.queue_batching_window_seconds <= 300 && floor(var.queue_batching_window_seconds) == var.queue_batching_window_seconds
    error_message = "queue_batching_window_seconds must be a whole number between 0 and 300."
  }
}

variable "event_type_index_shards" {
  description = "Write shards of the event_type index. 1 (default) keeps the required event_type-timestamp-index; above 1 it is replaced by event_type_shard-timestamp-index keyed by <type>#<shard>, which readers query by fan-out (docs/infra.md)."
  type        = number
  default     = 1

  validation {
    condition     = var.event_type_index_shards >= 1 && var.event_type_index_shards <= 64 && floor(var.event_type_index_shards) == var.event_type_index_shards
    error_message = "event_type_index_shards must be a whole number between 1 and 64."
  }
}
