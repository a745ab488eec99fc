output "function_name" {
  description = "Name of the stage's Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the stage's Lambda function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Log group of the function."
  value       = aws_cloudwatch_log_group.this.name
}

output "queue_name" {
  description = "Name of the stage's dead-letter queue."
  value       = aws_sqs_queue.dead_letter.name
}

output "queue_url" {
  description = "URL of the stage's dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "queue_arn" {
  description = "ARN of the stage's dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "rule_name" {
  description = "Name of the EventBridge rule that invokes the function."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "ARN of the EventBridge rule that invokes the function."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "alarm_names" {
  description = "Names of the stage's alarms (errors, throttles, dead-letter queue depth)."
  value       = concat([for alarm in aws_cloudwatch_metric_alarm.function : alarm.alarm_name], [aws_cloudwatch_metric_alarm.dead_letter_depth.alarm_name])
}
