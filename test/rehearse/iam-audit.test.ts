import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  auditPolicy,
  countByAction,
  type PolicyDocument,
  platformGrants,
  type RecordedCall,
  recordedCalls,
} from '../../scripts/rehearse/iam-audit.ts';

const AT = { region: 'us-east-1', account: '123456789012' };
const TABLE = 'arn:aws:dynamodb:us-east-1:123456789012:table/dynamodb-events-dev';
const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/eventbus-marketflow-dev';
const PARAMETER = 'arn:aws:ssm:us-east-1:123456789012:parameter/marketflow/dev/events-table';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:sqs-ingestion-dlq-dev';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:sns-alerts-dev';

/** A request as moto's recorder writes it: SigV4 headers, the body as sent. */
function recorded(service: string, accessKey: string, body: string, target?: string): string {
  return JSON.stringify({
    headers: {
      Authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/20261127/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
      ...(target ? { 'X-Amz-Target': target } : {}),
    },
    method: 'POST',
    url: 'http://127.0.0.1:5000/',
    body: Buffer.from(body).toString('base64'),
    body_encoded: true,
  });
}

const RECORDING = [
  recorded(
    'dynamodb',
    'ASIAINGEST',
    JSON.stringify({ TableName: 'dynamodb-events-dev', Item: {} }),
    'DynamoDB_20120810.PutItem',
  ),
  recorded(
    'dynamodb',
    'ASIAPROC',
    JSON.stringify({ TableName: 'dynamodb-events-dev', IndexName: 'symbol-timestamp-index' }),
    'DynamoDB_20120810.Query',
  ),
  recorded(
    'events',
    'ASIAINGEST',
    JSON.stringify({
      Entries: [{ EventBusName: 'eventbus-marketflow-dev' }, { EventBusName: 'eventbus-marketflow-dev' }],
    }),
    'AWSEvents.PutEvents',
  ),
  recorded(
    'ssm',
    'ASIAINGEST',
    JSON.stringify({ Names: ['/marketflow/dev/events-table'] }),
    'AmazonSSM.GetParameters',
  ),
  recorded('sns', 'ASIANOTIFY', `Action=Publish&TopicArn=${encodeURIComponent(TOPIC)}&Message=hi`),
  // moto's own API is not signed: not a call of anyone's.
  JSON.stringify({ headers: {}, method: 'GET', url: 'http://127.0.0.1:5000/moto-api/data.json', body: '' }),
].join('\n');

describe('recordedCalls: moto recording → IAM actions and resource ARNs', () => {
  const calls = recordedCalls(RECORDING, AT);

  it('reads the access key, the action of JSON and query protocols, and the ARNs each call touches', () => {
    assert.deepEqual(calls, [
      { accessKeyId: 'ASIAINGEST', action: 'dynamodb:PutItem', resources: [TABLE] },
      {
        accessKeyId: 'ASIAPROC',
        action: 'dynamodb:Query',
        resources: [`${TABLE}/index/symbol-timestamp-index`],
      },
      { accessKeyId: 'ASIAINGEST', action: 'events:PutEvents', resources: [BUS] },
      { accessKeyId: 'ASIAINGEST', action: 'ssm:GetParameters', resources: [PARAMETER] },
      { accessKeyId: 'ASIANOTIFY', action: 'sns:Publish', resources: [TOPIC] },
    ]);
  });

  it("checks SQS's batch calls as their single-message permission, DynamoDB's batch writes as their own", () => {
    const delivery = 'http://127.0.0.1:5000/123456789012/sqs-ingestion-delivery-dev';
    const batchCalls = recordedCalls(
      [
        recorded(
          'sqs',
          'ASIAINGEST',
          JSON.stringify({ QueueUrl: delivery, Entries: [] }),
          'AmazonSQS.DeleteMessageBatch',
        ),
        recorded('sqs', 'ASIAINGEST', JSON.stringify({ QueueUrl: delivery }), 'AmazonSQS.ReceiveMessage'),
        recorded(
          'dynamodb',
          'ASIAINGEST',
          JSON.stringify({ RequestItems: { 'dynamodb-audit-dev': [] } }),
          'DynamoDB_20120810.BatchWriteItem',
        ),
      ].join('\n'),
      AT,
    );
    assert.deepEqual(
      batchCalls.map((call) => `${call.action} ${call.resources.join()}`),
      [
        'sqs:DeleteMessage arn:aws:sqs:us-east-1:123456789012:sqs-ingestion-delivery-dev',
        'sqs:ReceiveMessage arn:aws:sqs:us-east-1:123456789012:sqs-ingestion-delivery-dev',
        'dynamodb:BatchWriteItem arn:aws:dynamodb:us-east-1:123456789012:table/dynamodb-audit-dev',
      ],
    );
  });

  it('counts calls per action', () => {
    assert.deepEqual(countByAction(calls.filter((call) => call.accessKeyId === 'ASIAINGEST')), {
      'dynamodb:PutItem': 1,
      'events:PutEvents': 1,
      'ssm:GetParameters': 1,
    });
  });
});

describe('auditPolicy: each recorded call against the policy, each statement against the calls', () => {
  const calls: RecordedCall[] = recordedCalls(RECORDING, AT).filter(
    (call) => call.accessKeyId === 'ASIAINGEST',
  );
  const platform = platformGrants({ deadLetterQueueArn: QUEUE });
  const policy: PolicyDocument = {
    Statement: [
      { Sid: 'StoreRawEvents', Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [TABLE] },
      { Sid: 'EmitValidatedEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS },
      {
        Sid: 'ReadConfiguration',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: ['arn:aws:ssm:us-east-1:123456789012:parameter/marketflow/dev/*'],
      },
      { Sid: 'SendToOwnDeadLetterQueue', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [QUEUE] },
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: ['arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/lambda-ingestion-dev:*'],
      },
      {
        Sid: 'SendTraces',
        Effect: 'Allow',
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: ['*'],
      },
    ],
  };

  it('passes the policy the calls need: nothing missing, nothing unused, platform statements named', () => {
    const audit = auditPolicy(policy, calls, platform);
    assert.deepEqual(audit.missing, []);
    assert.deepEqual(audit.unusedStatements, []);
    assert.deepEqual(audit.unusedActions, ['ReadConfiguration: ssm:GetParameter']);
    assert.deepEqual(
      audit.platformOnly.map((entry) => entry.split(' ')[0]),
      ['SendToOwnDeadLetterQueue', 'WriteOwnLogs', 'SendTraces'],
    );
  });

  it('fails a broken policy that lacks a permission a call used', () => {
    const broken = {
      Statement: policy.Statement.filter((statement) => statement.Sid !== 'EmitValidatedEvents'),
    };
    assert.deepEqual(auditPolicy(broken, calls, platform).missing, [`events:PutEvents on ${BUS}`]);
  });

  it('fails a permission scoped to another resource, and an explicit deny', () => {
    const elsewhere = {
      Statement: policy.Statement.map((statement) =>
        statement.Sid === 'StoreRawEvents' ? { ...statement, Resource: [`${TABLE}-other`] } : statement,
      ),
    };
    assert.deepEqual(auditPolicy(elsewhere, calls, platform).missing, [`dynamodb:PutItem on ${TABLE}`]);
    const denied = {
      Statement: [...policy.Statement, { Effect: 'Deny' as const, Action: 'dynamodb:*', Resource: '*' }],
    };
    assert.deepEqual(auditPolicy(denied, calls, platform).missing, [`dynamodb:PutItem on ${TABLE}`]);
  });

  it('fails a broken policy with a statement no call uses', () => {
    const broken = {
      Statement: [
        ...policy.Statement,
        { Sid: 'DeleteEvents', Effect: 'Allow' as const, Action: ['dynamodb:DeleteItem'], Resource: [TABLE] },
      ],
    };
    assert.deepEqual(auditPolicy(broken, calls, platform).unusedStatements, ['DeleteEvents']);
  });

  it('does not let a platform action hide an unused grant on another resource', () => {
    const broken = {
      Statement: [
        ...policy.Statement,
        {
          Sid: 'SendElsewhere',
          Effect: 'Allow' as const,
          Action: ['sqs:SendMessage'],
          Resource: [`${QUEUE}-other`],
        },
      ],
    };
    assert.deepEqual(auditPolicy(broken, calls, platform).unusedStatements, ['SendElsewhere']);
  });
});
