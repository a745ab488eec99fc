export type CheckName = 'parse' | 'format' | 'reference' | 'schema' | 'security' | 'naming';

/** One finding of the offline validation: which check, where, and what is wrong. */
export interface Issue {
  check: CheckName;
  /** File the finding is in, relative to the validated directory. */
  file: string;
  /** Terraform address of the block, for example `aws_sqs_queue.dead_letter` or `variable.environment`. */
  address: string;
  message: string;
}

export function describeIssue(issue: Issue): string {
  return `[${issue.check}] ${issue.file} ${issue.address}: ${issue.message}`;
}
