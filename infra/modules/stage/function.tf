data "archive_file" "bundle" {
  type        = "zip"
  source_dir  = var.bundle_dir
  output_path = var.archive_path
}

# Created before the function, so Lambda never creates it itself without a retention.
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "this" {
  function_name                  = local.function_name
  description                    = "MarketFlow ${var.stage} stage (${var.environment})."
  role                           = aws_iam_role.this.arn
  runtime                        = "nodejs24.x"
  architectures                  = ["arm64"]
  handler                        = "index.handler"
  filename                       = data.archive_file.bundle.output_path
  source_code_hash               = data.archive_file.bundle.output_base64sha256
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = {
      MARKETFLOW_PARAMETER_PREFIX   = var.parameter_prefix
      POWERTOOLS_SERVICE_NAME       = var.stage
      POWERTOOLS_METRICS_NAMESPACE  = var.metrics_namespace
      POWERTOOLS_LOG_LEVEL          = var.log_level
      POWERTOOLS_LOGGER_SAMPLE_RATE = tostring(var.log_sample_rate)
      POWERTOOLS_PARAMETERS_MAX_AGE = tostring(var.parameters_max_age_sec)
      NODE_OPTIONS                  = var.enable_source_maps ? "--enable-source-maps" : ""
      MARKETFLOW_EVENT_TYPE_SHARDS  = tostring(var.event_type_shards)
      MARKETFLOW_TRACING            = var.tracing_path
    }
  }

  tracing_config {
    mode = "Active"
  }

  # The one dead letter of a failed invocation (docs/infra.md, "One dead letter per failure"): no
  # on-failure destination as well, which would put a second copy of the event in the queue.
  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  # Lambda's JSON format filters application lines below application_log_level, and Powertools then
  # takes that level as its own: a sampled invocation's DEBUG lines would be dropped. With sampling on,
  # the Text format leaves the filtering to Powertools (whose lines are JSON in either format).
  logging_config {
    log_format            = local.log_sampled ? "Text" : "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = local.log_sampled ? null : var.log_level
    system_log_level      = local.log_sampled ? null : "INFO"
  }

  tags = {
    FunctionType = var.stage
  }

  # IAM is eventually consistent: the role's policy must exist before the function is created.
  depends_on = [
    aws_iam_role_policy.this,
    aws_cloudwatch_log_group.this,
  ]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.retry_attempts
  maximum_event_age_in_seconds = var.max_event_age_seconds
}
