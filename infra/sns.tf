# CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key alias/aws/sns (its key
# policy cannot be changed), so the topic gets a customer managed key whose policy admits them.
resource "aws_kms_key" "sns" {
  description             = "Encrypts the marketflow alert topic (${var.environment})."
  enable_key_rotation     = true
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "sns" {
  name          = "alias/kms-sns-${var.environment}"
  target_key_id = aws_kms_key.sns.key_id
}

# A separate policy resource, so the key exists before the notification role that the policy names,
# and the role's own policy can name the key.
resource "aws_kms_key_policy" "sns" {
  key_id = aws_kms_key.sns.id
  policy = data.aws_iam_policy_document.sns_key.json
}

# In a key policy, Resource "*" means this key and nothing else.
data "aws_iam_policy_document" "sns_key" {
  statement {
    sid = "AccountAdministersKey"
    actions = [
      "kms:Create*",
      "kms:Describe*",
      "kms:Enable*",
      "kms:List*",
      "kms:Put*",
      "kms:Update*",
      "kms:Revoke*",
      "kms:Disable*",
      "kms:Get*",
      "kms:Delete*",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:ScheduleKeyDeletion",
      "kms:CancelKeyDeletion",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # Only for alarms of this account and region (no confused deputy), as on the topic policy.
  statement {
    sid       = "CloudWatchAlarmsEncrypt"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:*"]
    }
  }

  statement {
    sid       = "NotificationFunctionEncrypts"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = [module.stage["notification"].role_arn]
    }
  }
}

resource "aws_sns_topic" "alerts" {
  name              = "sns-alerts-${var.environment}"
  display_name      = "MarketFlow alerts (${var.environment})"
  kms_master_key_id = aws_kms_key.sns.arn
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts_topic.json
}

data "aws_iam_policy_document" "alerts_topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:*"]
    }
  }
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.notification_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.notification_email
}
