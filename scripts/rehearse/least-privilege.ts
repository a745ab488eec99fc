/** The least-privilege step: each stage's recorded calls against its role's policy as deployed in moto. */
import assert from 'node:assert/strict';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import type { DeliveryMode } from '../../src/config/delivery-mode.ts';
import { STAGES, type Stage } from '../../src/domain/event-types.ts';
import type { AwsClients } from './aws-clients.ts';
import type { Checklist } from './checklist.ts';
import {
  auditPolicy,
  countByAction,
  type PolicyDocument,
  type PolicyStatement,
  platformGrants,
  recordedCalls,
} from './iam-audit.ts';
import type { PipelineRun } from './pipeline-run.ts';
import type { Report } from './report.ts';

import { type Outputs, outputString } from './state.ts';

/** IAM returns policy documents URL-encoded. */
function parseDocument(text: string | undefined): PolicyDocument {
  const json = text?.trimStart().startsWith('{') ? text : decodeURIComponent(text ?? '');
  const document = JSON.parse(json) as { Statement: PolicyStatement | PolicyStatement[] };
  return { Statement: Array.isArray(document.Statement) ? document.Statement : [document.Statement] };
}

/** Every statement of a role's policies, inline and attached, as moto holds them. */
async function rolePolicy(clients: AwsClients, roleArn: string): Promise<PolicyDocument> {
  const RoleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
  const statements: PolicyStatement[] = [];
  const { PolicyNames = [] } = await clients.iam.send(new ListRolePoliciesCommand({ RoleName }));
  for (const PolicyName of PolicyNames) {
    const { PolicyDocument } = await clients.iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }));
    statements.push(...parseDocument(PolicyDocument).Statement);
  }
  const { AttachedPolicies = [] } = await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName }));
  for (const { PolicyArn } of AttachedPolicies) {
    const { Policy } = await clients.iam.send(new GetPolicyCommand({ PolicyArn }));
    const { PolicyVersion } = await clients.iam.send(
      new GetPolicyVersionCommand({ PolicyArn, VersionId: Policy?.DefaultVersionId }),
    );
    statements.push(...parseDocument(PolicyVersion?.Document).Statement);
  }
  return { Statement: statements };
}

export async function checkLeastPrivilege(
  list: Checklist,
  report: Report,
  input: { clients: AwsClients; outputs: Outputs; run: PipelineRun; region: string; mode: DeliveryMode },
): Promise<void> {
  const { clients, outputs, run, region, mode } = input;
  const calls = recordedCalls(run.recording, { region, account: outputString(outputs, 'aws_account_id') });
  const own = calls.filter((call) => !run.stageOfAccessKey.has(call.accessKeyId));
  // Direct mode keeps the plain stage names (the first run); queued mode's are suffixed.
  const key = (caller: string) => (mode === 'direct' ? caller : `${caller} (${mode})`);
  report.callsPerStage[key('rehearsal')] = countByAction(own);
  for (const stage of STAGES) {
    const stageCalls = calls.filter((call) => run.stageOfAccessKey.get(call.accessKeyId) === stage);
    report.callsPerStage[key(stage)] = countByAction(stageCalls);
    const policy = await rolePolicy(clients, outputString(outputs, `lambda_${stage}_role_arn`));
    const platform = platformGrants({
      deadLetterQueueArn: outputString(outputs, `sqs_${stage}_dlq_arn`),
      topicKeyArn: outputString(outputs, 'sns_kms_key_arn'),
    });
    const audit = auditPolicy(policy, stageCalls, platform);
    report.leastPrivilege[key(stage)] = audit;
    await list.check(`least privilege ${key(stage)}: every recorded call is allowed by its role`, () => {
      assert.ok(stageCalls.length > 0, `no call recorded with the ${stage} role's key`);
      assert.deepEqual(audit.missing, [], 'calls the policy does not allow');
      return `${stageCalls.length} calls`;
    });
    // Both ways: a fallback action this mode's role keeps must be made by a call of this run.
    await list.check(`least privilege ${key(stage)}: every statement and every action is used`, () => {
      assert.deepEqual(audit.unusedStatements, [], 'statements no call used');
      assert.deepEqual(audit.unusedActions, [], 'actions no call made');
      return `${policy.Statement.length} statements; for the platform only: ${audit.platformOnly.join(', ') || 'none'}`;
    });
    if (stage === 'ingestion' && mode === 'direct') await selfTest(list, stage, policy, stageCalls, platform);
  }
}

/** The checker on the real calls with a deliberately broken policy: each direction must fail once. */
async function selfTest(
  list: Checklist,
  stage: Stage,
  policy: PolicyDocument,
  calls: Parameters<typeof auditPolicy>[1],
  platform: Parameters<typeof auditPolicy>[2],
): Promise<void> {
  // A statement some call uses: alone, it is neither unused nor left for the platform.
  const used = policy.Statement.find((statement) => {
    const alone = auditPolicy({ Statement: [statement] }, calls, platform);
    return alone.unusedStatements.length === 0 && alone.platformOnly.length === 0;
  });
  await list.check(
    `least privilege checker: the ${stage} policy without a used statement misses calls`,
    () => {
      assert.ok(used, 'a statement some call uses');
      const broken = { Statement: policy.Statement.filter((statement) => statement !== used) };
      const { missing } = auditPolicy(broken, calls, platform);
      assert.ok(missing.length > 0, `removing ${used.Sid} went unnoticed`);
      return `without ${used.Sid}: ${missing.join(', ')}`;
    },
  );
  await list.check(
    `least privilege checker: the ${stage} policy with an extra statement has it unused`,
    () => {
      const extra: PolicyStatement = {
        Sid: 'DeliberatelyUnused',
        Effect: 'Allow',
        Action: ['dynamodb:DeleteItem'],
        Resource: policy.Statement.flatMap((statement) => statement.Resource).filter((arn) =>
          String(arn).includes(':table/'),
        ),
      };
      const before = auditPolicy(policy, calls, platform).unusedStatements;
      const { unusedStatements } = auditPolicy({ Statement: [...policy.Statement, extra] }, calls, platform);
      assert.deepEqual(unusedStatements, [...before, 'DeliberatelyUnused']);
      return 'DeliberatelyUnused reported';
    },
  );
  await list.check(
    `least privilege checker: the ${stage} policy with an extra action in a used statement has it unused`,
    () => {
      assert.ok(used, 'a statement some call uses');
      const widened = { ...used, Action: [...[used.Action].flat(), 'dynamodb:DeleteItem'] };
      const broken = {
        Statement: policy.Statement.map((statement) => (statement === used ? widened : statement)),
      };
      const { unusedActions } = auditPolicy(broken, calls, platform);
      assert.ok(
        unusedActions.includes(`${used.Sid}: dynamodb:DeleteItem`),
        `the extra action went unnoticed: ${unusedActions.join(', ')}`,
      );
      return `${used.Sid}: dynamodb:DeleteItem reported`;
    },
  );
}
