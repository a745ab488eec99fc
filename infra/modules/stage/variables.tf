variable "stage" {
  description = "Pipeline stage this instance deploys: ingestion, processing or notification."
  type        = string

  validation {
    condition     = contains(["ingestion", "processing", "notification"], var.stage)
    error_message = "stage must be ingestion, processing or notification."
  }
}

variable "environment" {
  description = "Environment suffix of every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.environment))
    error_message = "environment must contain only lowercase letters, digits and hyphens."
  }
}

variable "bundle_dir" {
  description = "Folder holding the stage's esbuild bundle (index.cjs and its source map)."
  type        = string
}

variable "archive_path" {
  description = "Path of the zip file made from bundle_dir."
  type        = string
}

variable "memory_mb" {
  description = "Memory of the function in MB."
  type        = number

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Timeout of the function in seconds; also the visibility timeout of the dead-letter queue."
  type        = number

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the function."
  type        = number

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1."
  }
}

variable "retry_attempts" {
  description = "Retries of a failed asynchronous invocation before the event goes to the dead-letter queue."
  type        = number

  validation {
    condition     = contains([0, 1, 2], var.retry_attempts)
    error_message = "retry_attempts must be 0, 1 or 2."
  }
}

variable "target_retry_attempts" {
  description = "Retries of EventBridge when it cannot deliver an event to the function."
  type        = number

  validation {
    condition     = var.target_retry_attempts >= 0 && var.target_retry_attempts <= 185
    error_message = "target_retry_attempts must be between 0 and 185."
  }
}

variable "max_event_age_seconds" {
  description = "Oldest age of an event that is still retried, by Lambda and by EventBridge."
  type        = number

  validation {
    condition     = var.max_event_age_seconds >= 60 && var.max_event_age_seconds <= 21600
    error_message = "max_event_age_seconds must be between 60 and 21600."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the function's logs."
  type        = number

  validation {
    condition     = var.log_retention_days > 0
    error_message = "log_retention_days must be positive: every log group has a retention."
  }
}

variable "log_level" {
  description = "Log level of the function."
  type        = string

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN or ERROR."
  }
}

variable "log_sample_rate" {
  description = "Share of invocations that log at DEBUG (POWERTOOLS_LOGGER_SAMPLE_RATE); above 0 the log format is Text, so that Lambda keeps the sampled DEBUG lines."
  type        = number

  validation {
    condition     = var.log_sample_rate >= 0 && var.log_sample_rate <= 1
    error_message = "log_sample_rate must be between 0 and 1."
  }
}

variable "enable_source_maps" {
  description = "Set NODE_OPTIONS=--enable-source-maps (readable stack traces; costs cold-start time)."
  type        = bool
}

variable "tracing_path" {
  description = "opentelemetry or powertools: the bundle the function's index.cjs loads (MARKETFLOW_TRACING)."
  type        = string
}

variable "parameter_prefix" {
  description = "SSM path the function reads its configuration from (MARKETFLOW_PARAMETER_PREFIX)."
  type        = string
}

variable "parameters_max_age_sec" {
  description = "Seconds the function caches SSM parameters (POWERTOOLS_PARAMETERS_MAX_AGE)."
  type        = number
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the function's EMF metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
}

variable "event_bus_name" {
  description = "Name of the custom bus whose rule invokes the function."
  type        = string
}

variable "event_pattern" {
  description = "EventBridge event pattern (JSON) of the events the function receives."
  type        = string
}

variable "policy_statements" {
  description = "Allow statements the function needs besides its queue, log group and X-Ray, keyed by statement id."
  type = map(object({
    actions   = list(string)
    resources = list(string)
  }))
}

variable "alarm_topic_arn" {
  description = "SNS topic the stage's alarms notify."
  type        = string
}

variable "delivery_mode" {
  description = "direct: the rule invokes the function per event; queued: the rule sends to an SQS queue the function consumes in batches."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "queued"], var.delivery_mode)
    error_message = "delivery_mode must be direct or queued."
  }
}

variable "queue_batch_size" {
  description = "Queued mode: most records per batch."
  type        = number
  default     = 10
}

variable "queue_batching_window_seconds" {
  description = "Queued mode: longest wait to fill a batch."
  type        = number
  default     = 0
}

variable "event_type_shards" {
  description = "Write shards of the event_type index, given to the function (MARKETFLOW_EVENT_TYPE_SHARDS)."
  type        = number
  default     = 1
}
