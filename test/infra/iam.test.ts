// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Parameter, STAGE_PARAMETERS, WAKE_UP_PARAMETERS } from '../../src/config/parameters.ts';
import { STAGES, type Stage } from '../../src/domain/event-types.ts';
import { type InfraView, infraView } from './infra-config.ts';
import { isObject } from './validator/hcl.ts';
import { policyStatements, XRAY_PUT_ACTIONS } from './validator/security.ts';

const EVENTS_TABLE = '${aws_dynamodb_table.events.arn}';
const AUDIT_TABLE = '${aws_dynamodb_table.audit.arn}';
const BUS = '${aws_cloudwatch_event_bus.market_data.arn}';
const WAKE_UPS = '${aws_sqs_queue.wake_ups.arn}';
/** The one SSM action the functions call (`SsmApi`'s only operation). */
const SSM_READS = ['ssm:GetParameters'];

type Mode = 'direct' | 'queued';
const MODES: readonly Mode[] = ['direct', 'queued'];

/** One PutItem per audit record in direct mode; a queued batch's records in BatchWriteItem. */
const AUDIT_WRITE: Record<Mode, string[]> = {
  direct: ['dynamodb:PutItem'],
  queued: ['dynamodb:BatchWriteItem'],
};

/**
 * Processing also gets batches in direct mode: its wake-ups, handed back by an event source mapping,
 * whose audit records go out in BatchWriteItem as a queued batch's do.
 */
const PROCESSING_AUDIT_WRITE: Record<Mode, string[]> = {
  direct: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'],
  queued: ['dynamodb:BatchWriteItem'],
};

/** What processing may do on its wake-up queue, in both modes: send, and what the mapping does. */
const WAKE_UP_GRANTS: Record<string, string[]> = {
  'sqs:SendMessage': [WAKE_UPS],
  'sqs:ReceiveMessage': [WAKE_UPS],
  'sqs:DeleteMessage': [WAKE_UPS],
  'sqs:GetQueueAttributes': [WAKE_UPS],
};

/**
 * Grants each stage needs besides its queue, logs, X-Ray and SSM, per delivery mode: action ->
 * resources (the contract). Each one is made by a run of the deploy rehearsal in that mode.
 */
function stageGrants(stage: Stage, mode: Mode): Record<string, string[]> {
  const auditWrites = (stage === 'processing' ? PROCESSING_AUDIT_WRITE : AUDIT_WRITE)[mode];
  const audit = Object.fromEntries(auditWrites.map((action) => [action, [AUDIT_TABLE]]));
  const merge = (grants: Record<string, string[]>) => {
    const merged = { ...grants };
    for (const [action, resources] of Object.entries(audit))
      merged[action] = [...(merged[action] ?? []), ...resources];
    return merged;
  };
  switch (stage) {
    case 'ingestion':
      return merge({
        'dynamodb:PutItem': [EVENTS_TABLE],
        'dynamodb:GetItem': [EVENTS_TABLE],
        'events:PutEvents': [BUS],
      });
    case 'processing':
      return merge({
        'dynamodb:Query': ['${aws_dynamodb_table.events.arn}/index/symbol-timestamp-index'],
        'dynamodb:GetItem': [EVENTS_TABLE],
        'dynamodb:UpdateItem': [EVENTS_TABLE],
        'events:PutEvents': [BUS],
        ...WAKE_UP_GRANTS,
      });
    case 'notification':
      return merge({
        'dynamodb:GetItem': [EVENTS_TABLE],
        'dynamodb:UpdateItem': [EVENTS_TABLE],
        'sns:Publish': ['${aws_sns_topic.alerts.arn}'],
        'kms:GenerateDataKey*': ['${aws_kms_key.sns.arn}'],
        'kms:Decrypt': ['${aws_kms_key.sns.arn}'],
      });
  }
}

/** Grants every stage gets from the stage module. */
const OWN_GRANTS: Record<string, string[]> = {
  'sqs:SendMessage': ['${aws_sqs_queue.dead_letter.arn}'],
  'logs:CreateLogStream': ['${aws_cloudwatch_log_group.this.arn}:*'],
  'logs:PutLogEvents': ['${aws_cloudwatch_log_group.this.arn}:*'],
  'xray:PutTraceSegments': ['*'],
  'xray:PutTelemetryRecords': ['*'],
};

type Statements = Record<string, { actions: string[]; resources: string[] }>;

/** A stage's statements as the module gets them in `mode`: each statement's actions of that mode. */
function asStatements(value: unknown, mode: Mode): Statements {
  assert.ok(isObject(value), 'statements are a map keyed by statement id');
  const statements: Statements = {};
  for (const [sid, statement] of Object.entries(value)) {
    assert.ok(isObject(statement) && isObject(statement.actions), `${sid}: actions per delivery mode`);
    assert.deepEqual(Object.keys(statement.actions).sort(), [...MODES], `${sid}: a list for each mode`);
    const actions = statement.actions[mode];
    assert.ok(Array.isArray(actions) && Array.isArray(statement.resources), sid);
    if (actions.length > 0)
      statements[sid] = { actions: actions as string[], resources: statement.resources as string[] };
  }
  return statements;
}

/** The stage module's own statements: plain lists, the same in every mode. */
function ownStatements(value: unknown): Statements {
  assert.ok(isObject(value), 'statements are a map keyed by statement id');
  const statements: Statements = {};
  for (const [sid, statement] of Object.entries(value)) {
    assert.ok(isObject(statement), sid);
    assert.ok(Array.isArray(statement.actions) && Array.isArray(statement.resources), sid);
    statements[sid] = { actions: statement.actions as string[], resources: statement.resources as string[] };
  }
  return statements;
}

/** Action -> sorted resources, over a set of statements. */
function grants(statements: Statements): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const { actions, resources } of Object.values(statements)) {
    for (const action of actions) result[action] = [...(result[action] ?? []), ...resources].sort();
  }
  return result;
}

function sortedGrants(expected: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(expected).map(([action, resources]) => [action, [...resources].sort()]),
  );
}

let infra: InfraView;
before(async () => {
  infra = await infraView();
});

function stageStatements(stage: Stage, mode: Mode): Statements {
  return asStatements(infra.root.locals.get(`${stage}_policy_statements`)?.value, mode);
}

describe('least-privilege IAM per stage', () => {
  it("passes each stage its own statement map, with the actions of the deployed mode's code", () => {
    const selection = String(infra.root.locals.get('stage_policy_statements')?.value);
    for (const stage of STAGES)
      assert.match(selection, new RegExp(`${stage}\\s*=\\s*local\\.${stage}_policy_statements`));
    assert.match(selection, /actions\s*=\s*statement\.actions\[var\.delivery_mode\]/);
    assert.match(selection, /if length\(statement\.actions\[var\.delivery_mode\]\) > 0/);
    assert.equal(
      infra.block('module.stage').body.policy_statements,
      '${local.stage_policy_statements[each.key]}',
    );
    assert.equal(
      infra.stageContext.module.locals.get('policy_statements')?.value,
      '${merge(local.own_policy_statements, local.queued_policy_statements, var.policy_statements)}',
    );
    const policy = String(infra.block('stage:aws_iam_role_policy.this').body.policy);
    assert.match(policy, /for sid, statement in local\.policy_statements/);
    assert.match(policy, /Effect\s+= "Allow"/);
  });

  for (const stage of STAGES) {
    for (const mode of MODES) {
      it(`grants ${stage} exactly its contract in ${mode} mode`, () => {
        const statements = stageStatements(stage, mode);
        const withoutSsm = Object.fromEntries(
          Object.entries(statements).filter(
            ([, s]) => !s.actions.every((action) => SSM_READS.includes(action)),
          ),
        );
        assert.deepEqual(grants(withoutSsm), sortedGrants(stageGrants(stage, mode)));
      });
    }

    it(`lets ${stage} read exactly the SSM parameters it loads, in both modes`, () => {
      for (const mode of MODES) {
        const ssm = Object.values(stageStatements(stage, mode)).filter((s) =>
          s.actions.some((a) => a.startsWith('ssm:')),
        );
        assert.equal(ssm.length, 1, 'one SSM statement');
        assert.deepEqual([...(ssm[0]?.actions ?? [])].sort(), SSM_READS);
        const names = (ssm[0]?.resources ?? []).map((resource) => {
          const match = /^\$\{aws_ssm_parameter\.config\["([a-z-]+)"\]\.arn\}$/.exec(resource);
          assert.ok(match?.[1], `${resource} is one parameter's ARN`);
          return match[1];
        });
        // Processing loads the wake-up queue's URL only when an event waits.
        const loaded = [...STAGE_PARAMETERS[stage], ...(stage === 'processing' ? WAKE_UP_PARAMETERS : [])];
        assert.deepEqual(names.sort(), loaded.map((key) => Parameter[key]).sort());
      }
    });
  }

  it('lets processing send only to its wake-up queue (and, as every stage, its own dead-letter queue), and no other stage send wake-ups', () => {
    const sendsTo = (statements: Statements) =>
      Object.values(statements)
        .filter((statement) => statement.actions.some((action) => /^sqs:(\*|Send)/i.test(action)))
        .flatMap((statement) => statement.resources)
        .sort();
    const own = ownStatements(infra.stageContext.module.locals.get('own_policy_statements')?.value);
    assert.deepEqual(sendsTo(own), ['${aws_sqs_queue.dead_letter.arn}'], "the stage module's own statements");
    for (const mode of MODES) {
      for (const stage of STAGES) {
        const expected = stage === 'processing' ? [WAKE_UPS] : [];
        assert.deepEqual(sendsTo(stageStatements(stage, mode)), expected, `${stage} in ${mode} mode`);
      }
      const send = Object.values(stageStatements('processing', mode)).filter((statement) =>
        statement.actions.includes('sqs:SendMessage'),
      );
      assert.deepEqual(
        send.map((statement) => statement.actions),
        [['sqs:SendMessage']],
        'one statement, SendMessage alone',
      );
    }
  });

  it('gives every stage its own queue, log group and the X-Ray put actions', () => {
    const own = ownStatements(infra.stageContext.module.locals.get('own_policy_statements')?.value);
    assert.deepEqual(grants(own), sortedGrants(OWN_GRANTS));
  });

  it('uses Resource "*" only for the X-Ray put actions in identity policies', () => {
    for (const module of [infra.root, infra.stageContext.module]) {
      for (const statement of policyStatements(module).filter((s) => !s.inKeyPolicy)) {
        if (statement.resources.includes('*')) {
          assert.ok(
            statement.actions.every((action) => XRAY_PUT_ACTIONS.has(action)),
            statement.path.join('.'),
          );
        }
      }
    }
  });

  it('creates the function after its role policy', () => {
    const dependsOn = infra.block('stage:aws_lambda_function.this').body.depends_on;
    assert.ok(Array.isArray(dependsOn) && dependsOn.includes('${aws_iam_role_policy.this}'));
    const assume = JSON.stringify(infra.block('stage:data.aws_iam_policy_document.assume').body);
    assert.match(assume, /lambda\.amazonaws\.com/);
    assert.match(assume, /sts:AssumeRole/);
  });
});
