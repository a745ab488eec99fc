import {
  blocksOf,
  firstBlock,
  type HclObject,
  type HclValue,
  isObject,
  soleInterpolation,
  stringsIn,
} from './hcl.ts';
import type { Issue } from './issue.ts';
import type { Block, TerraformModule } from './parse.ts';

/** The only actions that may have Resource "*": X-Ray offers no resource-level permissions for them. */
export const XRAY_PUT_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

const ACTION_KEYS = ['actions', 'Action', 'not_actions', 'NotAction'];
const RESOURCE_KEYS = ['resources', 'Resource', 'not_resources', 'NotResource'];

/** A policy statement written as HCL data (a statement block, or an object with actions and resources). */
export interface PolicyStatement {
  block: Block;
  /** Key path inside the block, for example `ingestion_policy_statements.StoreRawEvents`. */
  path: string[];
  actions: string[];
  resources: string[];
  /** Statement of a KMS key policy, where Resource "*" means the key itself. */
  inKeyPolicy: boolean;
}

function asStrings(value: HclValue | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** A statement's actions: a list, or one list per delivery mode (`infra/iam.tf`). */
function actionStrings(value: HclValue | undefined): string[] {
  return isObject(value) ? Object.values(value).flatMap(asStrings) : asStrings(value);
}

/** Names of the aws_iam_policy_document data sources used as the policy of a KMS key. */
function keyPolicyDocuments(module: TerraformModule): Set<string> {
  const names = new Set<string>();
  for (const block of module.blocks) {
    if (block.kind !== 'resource' || (block.type !== 'aws_kms_key' && block.type !== 'aws_kms_key_policy'))
      continue;
    const match = /^data\.aws_iam_policy_document\.([a-z0-9_]+)\.json$/.exec(
      soleInterpolation(block.body.policy) ?? '',
    );
    if (match?.[1]) names.add(match[1]);
  }
  return names;
}

/** Every policy statement written as data anywhere in the module (not the ones inside modules it calls). */
export function policyStatements(module: TerraformModule): PolicyStatement[] {
  const keyDocuments = keyPolicyDocuments(module);
  const statements: PolicyStatement[] = [];
  const visit = (block: Block, value: HclValue, path: string[]) => {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) visit(block, item, [...path, String(index)]);
      return;
    }
    if (!isObject(value)) return;
    if (ACTION_KEYS.some((key) => key in value)) {
      statements.push({
        block,
        path,
        actions: ACTION_KEYS.flatMap((key) => actionStrings(value[key])),
        resources: RESOURCE_KEYS.flatMap((key) => asStrings(value[key])),
        inKeyPolicy:
          block.kind === 'data' && block.type === 'aws_iam_policy_document' && keyDocuments.has(block.name),
      });
      return;
    }
    for (const [key, item] of Object.entries(value)) visit(block, item, [...path, key]);
  };
  for (const block of module.blocks) visit(block, block.body, []);
  return statements;
}

function isWildcardAction(action: string): boolean {
  return action === '*' || /^[a-zA-Z0-9-]+:\*$/.test(action);
}

function checkStatements(module: TerraformModule, report: (block: Block, message: string) => void): void {
  for (const statement of policyStatements(module)) {
    const where = statement.path.join('.');
    for (const action of statement.actions.filter(isWildcardAction)) {
      report(statement.block, `${where}: action "${action}" grants every action; name the actions`);
    }
    const nonXray = statement.actions.filter((action) => !XRAY_PUT_ACTIONS.has(action));
    if (statement.resources.includes('*') && !statement.inKeyPolicy && nonXray.length > 0) {
      report(
        statement.block,
        `${where}: Resource "*" for ${nonXray.join(', ')}; only the X-Ray put actions may use it`,
      );
    }
  }
  // Policies written inline in jsonencode() are expressions: look for wildcards in their text.
  for (const block of module.blocks) {
    for (const { text } of stringsIn(block.body)) {
      if (!text.includes('${')) continue;
      const wildcard = /(?:Action|actions)\s*=\s*\[?[^\]=]*?"(\*|[a-zA-Z0-9-]+:\*)"/.exec(text);
      if (wildcard) report(block, `policy action "${wildcard[1]}" grants every action; name the actions`);
      const isKeyPolicy = block.type === 'aws_kms_key' || block.type === 'aws_kms_key_policy';
      if (!isKeyPolicy && /Resource\s*=\s*\[?\s*"\*"/.test(text) && !/xray:Put/.test(text)) {
        report(block, 'policy Resource "*" outside the X-Ray put actions');
      }
    }
  }
}

/** Condition keys that tie a service principal's grant to this account's resources (no confused deputy). */
const SOURCE_CONDITION_KEYS = new Set(['aws:SourceAccount', 'aws:SourceArn']);

/**
 * A statement that lets an AWS service act on a resource must say on whose behalf: an
 * aws:SourceAccount or aws:SourceArn condition. Trust policies (sts:AssumeRole) are the exception.
 */
function checkServiceGrants(module: TerraformModule, report: (block: Block, message: string) => void): void {
  for (const block of module.blocks) {
    if (block.kind !== 'data' || block.type !== 'aws_iam_policy_document') continue;
    for (const statement of statementsOf(block.body)) {
      if (statement.effect === 'Deny') continue;
      const services = blocksOf(statement, 'principals')
        .filter((principals) => principals.type === 'Service')
        .flatMap((principals) => asStrings(principals.identifiers));
      const actions = asStrings(statement.actions);
      if (services.length === 0 || actions.every((action) => action === 'sts:AssumeRole')) continue;
      const conditioned = blocksOf(statement, 'condition').some((condition) =>
        SOURCE_CONDITION_KEYS.has(String(condition.variable)),
      );
      if (!conditioned) {
        report(
          block,
          `statement ${String(statement.sid ?? '')} grants ${services.join(', ')} without an aws:SourceAccount or aws:SourceArn condition`,
        );
      }
    }
  }
}

/** The statements of a policy document, written out or as the content of a dynamic block. */
export function statementsOf(document: HclObject): HclObject[] {
  const dynamic = isObject(document.dynamic) ? document.dynamic.statement : undefined;
  const generated = blocksOf({ dynamic: dynamic ?? [] }, 'dynamic').flatMap((block) =>
    blocksOf(block, 'content'),
  );
  return [...blocksOf(document, 'statement'), ...generated];
}

/**
 * Every event bus has a policy that denies events:PutEvents by principal: rules route on source and
 * detail-type, which anyone allowed to put events could otherwise forge.
 */
function checkBusPolicies(module: TerraformModule, report: (block: Block, message: string) => void): void {
  const restricted = new Set<string>();
  for (const block of module.blocks) {
    if (block.kind !== 'resource' || block.type !== 'aws_cloudwatch_event_bus_policy') continue;
    const bus = /^aws_cloudwatch_event_bus\.([a-z0-9_]+)\.name$/.exec(
      soleInterpolation(block.body.event_bus_name) ?? '',
    );
    const document = /^data\.aws_iam_policy_document\.([a-z0-9_]+)\.json$/.exec(
      soleInterpolation(block.body.policy) ?? '',
    );
    const policy = module.blocks.find(
      (candidate) =>
        candidate.kind === 'data' &&
        candidate.type === 'aws_iam_policy_document' &&
        candidate.name === document?.[1],
    );
    const deniesByPrincipal = statementsOf(policy?.body ?? {}).some(
      (statement) =>
        statement.effect === 'Deny' &&
        asStrings(statement.actions).includes('events:PutEvents') &&
        blocksOf(statement, 'condition').some((condition) => condition.variable === 'aws:PrincipalArn'),
    );
    if (bus?.[1] && deniesByPrincipal) restricted.add(bus[1]);
  }
  for (const block of module.blocks) {
    if (
      block.kind === 'resource' &&
      block.type === 'aws_cloudwatch_event_bus' &&
      !restricted.has(block.name)
    ) {
      report(
        block,
        "event bus has no aws_cloudwatch_event_bus_policy denying events:PutEvents by aws:PrincipalArn: anyone allowed to put events could forge the pipeline's own",
      );
    }
  }
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}

function checkResources(module: TerraformModule, report: (block: Block, message: string) => void): void {
  for (const block of module.blocks) {
    for (const lifecycle of Array.isArray(block.body.lifecycle) ? block.body.lifecycle : []) {
      if (isObject(lifecycle) && 'prevent_destroy' in lifecycle && lifecycle.prevent_destroy !== false) {
        report(block, 'prevent_destroy is set: every resource must be destroyable');
      }
    }
    if (block.kind !== 'resource') continue;
    const body = block.body;
    switch (block.type) {
      case 'aws_sqs_queue':
        if (!isTrue(body.sqs_managed_sse_enabled) && body.kms_master_key_id === undefined) {
          report(block, 'queue is not encrypted: set sqs_managed_sse_enabled = true or kms_master_key_id');
        }
        break;
      case 'aws_sns_topic':
        if (body.kms_master_key_id === undefined) {
          report(block, 'topic is not encrypted: set kms_master_key_id to a customer managed key');
        } else if (body.kms_master_key_id === 'alias/aws/sns') {
          report(
            block,
            'topic uses the AWS managed key alias/aws/sns: CloudWatch alarms cannot publish to it',
          );
        }
        break;
      case 'aws_dynamodb_table':
        if (!isTrue(firstBlock(body, 'server_side_encryption')?.enabled)) {
          report(block, 'table has no server_side_encryption { enabled = true }');
        }
        break;
      case 'aws_lambda_function': {
        if (firstBlock(body, 'dead_letter_config')?.target_arn === undefined) {
          report(block, 'function has no dead_letter_config with a target_arn');
        }
        if (body.reserved_concurrent_executions === undefined) {
          report(block, 'function has no reserved_concurrent_executions');
        }
        if (firstBlock(body, 'tracing_config')?.mode !== 'Active') {
          report(block, 'function has no tracing_config { mode = "Active" }');
        }
        break;
      }
      case 'aws_lambda_function_event_invoke_config':
        if (firstBlock(firstBlock(body, 'destination_config') ?? {}, 'on_failure') !== undefined) {
          report(
            block,
            'invoke config has an on-failure destination while functions have a dead_letter_config: a failed event would be dead-lettered twice',
          );
        }
        break;
      case 'aws_cloudwatch_log_group':
        if (body.retention_in_days === undefined || body.retention_in_days === 0) {
          report(block, 'log group has no retention_in_days: its logs would be kept forever');
        }
        break;
      default:
        break;
    }
  }
}

/**
 * Security and policy rules: no wildcard actions, Resource "*" only for the X-Ray put actions (and in
 * KMS key policies, where it means the key), every queue, topic and table encrypted, no
 * prevent_destroy, every function with a dead-letter queue (its dead_letter_config, and no on-failure
 * destination as well), reserved concurrency and active tracing, every log group with a retention,
 * every grant to a service principal tied to this account's resources, every event bus with a policy
 * saying who may put events.
 */
export function checkSecurity(root: TerraformModule): Issue[] {
  const issues: Issue[] = [];
  const report = (block: Block, message: string) =>
    issues.push({ check: 'security', file: block.file, address: block.address, message });
  const pending: TerraformModule[] = [root];
  for (let module = pending.shift(); module; module = pending.shift()) {
    checkStatements(module, report);
    checkResources(module, report);
    checkServiceGrants(module, report);
    checkBusPolicies(module, report);
    pending.push(...module.children.values());
  }
  return issues;
}
