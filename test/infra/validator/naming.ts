// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import { soleInterpolation } from './hcl.ts';
import type { Issue } from './issue.ts';
import type { Block, TerraformModule } from './parse.ts';

/**
 * Names follow `{resource-type}-{purpose}-{environment}` (docs/requirements.md). The environment part must be
 * the `environment` variable itself, the last part of the name; the purpose is one or more lowercase
 * words or interpolations (`${var.stage}`, `${each.key}`).
 */
export interface NamingRule {
  attribute: string;
  /** Full pattern of the name once `${var.environment}` is replaced by ENVIRONMENT and other interpolations by `x`. */
  pattern: RegExp;
  example: string;
}

const ENVIRONMENT = '\u0000ENV';
const PURPOSE = '[a-z0-9]+(?:-[a-z0-9]+)*';

function standard(attribute: string, type: string): NamingRule {
  return {
    attribute,
    pattern: new RegExp(`^${type}-${PURPOSE}-${ENVIRONMENT}$`),
    example: `${type}-<purpose>-\${var.environment}`,
  };
}

export const NAMING_RULES: Record<string, NamingRule> = {
  aws_lambda_function: standard('function_name', 'lambda'),
  aws_dynamodb_table: standard('name', 'dynamodb'),
  aws_sqs_queue: standard('name', 'sqs'),
  aws_sns_topic: standard('name', 'sns'),
  aws_iam_role: standard('name', 'role'),
  aws_iam_role_policy: standard('name', 'policy'),
  aws_cloudwatch_event_bus: standard('name', 'eventbus'),
  aws_cloudwatch_event_rule: standard('name', 'rule'),
  aws_cloudwatch_event_archive: standard('name', 'archive'),
  aws_cloudwatch_metric_alarm: standard('alarm_name', 'alarm'),
  aws_cloudwatch_dashboard: standard('dashboard_name', 'dashboard'),
  aws_schemas_registry: standard('name', 'registry'),
  aws_schemas_schema: standard('name', 'schema'),
  aws_kms_alias: {
    attribute: 'name',
    pattern: new RegExp(`^alias/kms-${PURPOSE}-${ENVIRONMENT}$`),
    example: 'alias/kms-<purpose>-${var.environment}',
  },
  // Lambda writes to /aws/lambda/<function name>, EventBridge's vended logs of the bus to
  // /aws/vendedlogs/events/<bus name>; the function and bus names follow the standard rule.
  aws_cloudwatch_log_group: {
    attribute: 'name',
    pattern: new RegExp(`^(?:/aws/lambda/lambda|/aws/vendedlogs/events/eventbus)-${PURPOSE}-${ENVIRONMENT}$`),
    example:
      '/aws/lambda/lambda-<purpose>-${var.environment} or /aws/vendedlogs/events/eventbus-<purpose>-${var.environment}',
  },
  aws_cloudwatch_log_delivery_source: standard('name', 'logsource'),
  aws_cloudwatch_log_delivery_destination: standard('name', 'logdestination'),
  aws_cloudwatch_log_resource_policy: standard('policy_name', 'logpolicy'),
  // The parameter path is a contract with src/config/parameters.ts.
  aws_ssm_parameter: {
    attribute: 'name',
    pattern: new RegExp(`^/marketflow/${ENVIRONMENT}/${PURPOSE}$`),
    example: '/marketflow/${var.environment}/<name>',
  },
};

/** Arguments that name a resource; a resource type with one of them but no rule is reported. */
const NAME_ARGUMENTS = ['name', 'function_name', 'alarm_name', 'dashboard_name', 'name_prefix'];

/** Replaces `${local.x}` by the local's text (when it is a string) until none is left. */
function expandLocals(text: string, module: TerraformModule): string {
  let expanded = text;
  for (let round = 0; round < 5; round += 1) {
    const next = expanded.replace(/\$\{local\.([a-z0-9_]+)\}/g, (whole, name: string) => {
      const value = module.locals.get(name)?.value;
      return typeof value === 'string' ? value : whole;
    });
    if (next === expanded) break;
    expanded = next;
  }
  return expanded;
}

/** The name as a pattern subject: the environment variable marked, every other interpolation a plain word. */
export function nameShape(text: string, module: TerraformModule): string {
  return expandLocals(text, module)
    .replaceAll('${var.environment}', ENVIRONMENT)
    .replace(/\$\{[^}]*\}/g, 'x');
}

/** The names the rules were checked against, for the test that every name was seen. */
export interface CheckedName {
  block: Block;
  name: string;
}

export function checkNaming(root: TerraformModule, checked: CheckedName[] = []): Issue[] {
  const issues: Issue[] = [];
  const pending: TerraformModule[] = [root];
  for (let module = pending.shift(); module; module = pending.shift()) {
    for (const block of module.blocks.filter((candidate) => candidate.kind === 'resource')) {
      const report = (message: string) =>
        issues.push({ check: 'naming', file: block.file, address: block.address, message });
      const rule = NAMING_RULES[block.type];
      if (!rule) {
        // `function_name = aws_lambda_function.this.function_name` refers to a name, it does not make one.
        const named = NAME_ARGUMENTS.find(
          (argument) =>
            argument in block.body &&
            !/^[a-z0-9_]+\.[a-z0-9_]+/.test(soleInterpolation(block.body[argument]) ?? ''),
        );
        if (named) report(`${block.type} has a ${named} but no naming rule: add one to NAMING_RULES`);
        continue;
      }
      if ('name_prefix' in block.body) report('name_prefix makes random names: use a deterministic name');
      const name = block.body[rule.attribute];
      if (typeof name !== 'string') {
        report(`${rule.attribute} is not set: AWS would generate a random name (expected ${rule.example})`);
        continue;
      }
      checked.push({ block, name });
      if (!rule.pattern.test(nameShape(name, module))) {
        report(`${rule.attribute} "${name}" does not follow ${rule.example}`);
      }
    }
    pending.push(...module.children.values());
  }
  return issues;
}
