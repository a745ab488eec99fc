/**
 * Least privilege, judged by the calls themselves: moto's recording of the pipeline run, each request
 * turned into an IAM action and the ARNs it touches, checked against the calling stage's policy. A call
 * no statement allows is a missing permission; a statement no call used, or an action of a used one
 * that no call made, is an unused one, unless the statement only grants what AWS does on the
 * function's behalf (platformGrants), which no recording can show.
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
}

export interface PolicyDocument {
  Statement: PolicyStatement[];
}

export interface RecordedCall {
  accessKeyId: string;
  /** `dynamodb:PutItem`; `<service>:<unknown>` when the request could not be read. */
  action: string;
  resources: string[];
}

export interface PlatformGrant {
  action: string;
  /** The one resource it is for; any when absent. */
  resource?: string;
  why: string;
}

/**
 * What AWS does with the function's role and no recording of ours can show: Lambda's logs, the X-Ray
 * traces, the delivery of a failed invocation to the dead-letter queue, and SNS using the topic's KMS
 * key when the function publishes.
 */
export function platformGrants(own: { deadLetterQueueArn: string; topicKeyArn?: string }): PlatformGrant[] {
  const logs = 'Lambda writes the function logs with the role';
  const xray = 'the X-Ray daemon of the Lambda environment sends the traces with the role';
  const kms = 'SNS uses the topic key with the publisher’s permissions when the function publishes';
  return [
    { action: 'logs:CreateLogStream', why: logs },
    { action: 'logs:PutLogEvents', why: logs },
    { action: 'xray:PutTraceSegments', why: xray },
    { action: 'xray:PutTelemetryRecords', why: xray },
    {
      action: 'sqs:SendMessage',
      resource: own.deadLetterQueueArn,
      why: 'Lambda sends a failed asynchronous invocation to the dead-letter queue with the role',
    },
    ...(own.topicKeyArn
      ? [
          { action: 'kms:GenerateDataKey*', resource: own.topicKeyArn, why: kms },
          { action: 'kms:Decrypt', resource: own.topicKeyArn, why: kms },
        ]
      : []),
  ];
}

const asList = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

function statementCovers(statement: PolicyStatement, action: string, resource: string): boolean {
  return (
    asList(statement.Action).some((pattern) => globMatches(pattern, action, true)) &&
    asList(statement.Resource).some((pattern) => globMatches(pattern, resource))
  );
}

const statementName = (statement: PolicyStatement, index: number) => statement.Sid ?? `statement ${index}`;

export interface PolicyAudit {
  /** `action on resource`: calls no statement allows (or one denies). */
  missing: string[];
  unusedStatements: string[];
  /** `Sid: action` of used statements that no call made: unused as surely as a statement no call used. */
  unusedActions: string[];
  /** Unused statements left alone because they only grant what AWS uses for the function, with why. */
  platformOnly: string[];
}

export function auditPolicy(
  policy: PolicyDocument,
  calls: readonly RecordedCall[],
  platform: readonly PlatformGrant[],
): PolicyAudit {
  const missing = new Set<string>();
  const used = new Set<PolicyStatement>();
  const usedActions = new Set<string>();
  const allows = policy.Statement.filter((statement) => statement.Effect === 'Allow');
  const denies = policy.Statement.filter((statement) => statement.Effect === 'Deny');
  for (const call of calls) {
    for (const resource of call.resources) {
      const granting = allows.filter((statement) => statementCovers(statement, call.action, resource));
      if (
        granting.length === 0 ||
        denies.some((statement) => statementCovers(statement, call.action, resource))
      ) {
        missing.add(`${call.action} on ${resource}`);
      }
      for (const statement of granting) {
        used.add(statement);
        for (const pattern of asList(statement.Action)) {
          if (globMatches(pattern, call.action, true))
            usedActions.add(`${statementName(statement, allows.indexOf(statement))} ${pattern}`);
        }
      }
    }
  }
  const unusedStatements: string[] = [];
  const platformOnly: string[] = [];
  const unusedActions: string[] = [];
  allows.forEach((statement, index) => {
    const name = statementName(statement, index);
    if (used.has(statement)) {
      for (const action of asList(statement.Action)) {
        if (!usedActions.has(`${name} ${action}`)) unusedActions.push(`${name}: ${action}`);
      }
      return;
    }
    const grants = asList(statement.Action).flatMap((action) =>
      asList(statement.Resource).map((resource) =>
        platform.find(
          (grant) =>
            grant.action.toLowerCase() === action.toLowerCase() &&
            (grant.resource === undefined || grant.resource === resource),
        ),
      ),
    );
    if (grants.every((grant) => grant !== undefined)) {
      platformOnly.push(`${name} (${[...new Set(grants.map((grant) => grant?.why))].join('; ')})`);
    } else {
      unusedStatements.push(name);
    }
  });
  return { missing: [...missing].sort(), unusedStatements, unusedActions, platformOnly };
}

interface RecordedRequest {
  headers: Record<string, string>;
  method: string;
  url: string;
  body?: string;
  body_encoded?: boolean;
}

function header(request: RecordedRequest, name: string): string | undefined {
  const key = Object.keys(request.headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : request.headers[key];
}

function bodyText(request: RecordedRequest): string {
  if (!request.body) return '';
  return request.body_encoded ? Buffer.from(request.body, 'base64').toString('utf8') : request.body;
}

type Params = Record<string, unknown>;

/** The ARNs one request touches, by service and action. */
function resourcesOf(
  service: string,
  action: string,
  params: Params,
  arn: (rest: string) => string,
): string[] {
  const str = (value: unknown) => String(value ?? '');
  switch (service) {
    case 'dynamodb': {
      const tables = params.RequestItems
        ? Object.keys(params.RequestItems as Params)
        : params.TransactItems
          ? (params.TransactItems as Params[]).map((item) =>
              str((Object.values(item)[0] as Params).TableName),
            )
          : [str(params.TableName)];
      return tables.map((table) =>
        arn(`table/${table}${params.IndexName ? `/index/${str(params.IndexName)}` : ''}`),
      );
    }
    case 'events': {
      const buses = ((params.Entries as Params[] | undefined) ?? [params]).map(
        (entry) => str(entry.EventBusName) || 'default',
      );
      return [...new Set(buses)].map((bus) => (bus.startsWith('arn:') ? bus : arn(`event-bus/${bus}`)));
    }
    case 'ssm': {
      const names = (params.Names as string[] | undefined) ?? [str(params.Name ?? params.Path)];
      return names.map((name) => arn(`parameter${name.startsWith('/') ? '' : '/'}${name}`));
    }
    case 'sns':
      return [str(params.TopicArn ?? params.TargetArn)];
    case 'sqs': {
      const url = str(params.QueueUrl);
      return [arn(url.slice(url.lastIndexOf('/') + 1))];
    }
    case 'kms':
      return [str(params.KeyId)];
    default:
      return [`(unread resource of ${action})`];
  }
}

/**
 * SQS's batch calls have no IAM action of their own: each is authorized as its single-message action
 * (DynamoDB's BatchWriteItem and BatchGetItem, by contrast, are actions of their own).
 */
const SQS_BATCH_PERMISSION: Record<string, string> = {
  DeleteMessageBatch: 'DeleteMessage',
  SendMessageBatch: 'SendMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/**
 * Reads moto's recording (one JSON request a line) into calls: the access key from the SigV4
 * Authorization header, the action from X-Amz-Target (JSON protocols) or the Action form field (query
 * protocol), the resources from the parameters.
 */
export function recordedCalls(
  recording: string,
  at: { partition?: string; region: string; account: string },
): RecordedCall[] {
  const calls: RecordedCall[] = [];
  for (const line of recording.split('\n').filter((text) => text.trim() !== '')) {
    const request = JSON.parse(line) as RecordedRequest;
    const credential = /Credential=([^/]+)\/\d+\/([^/]+)\/([^/]+)\//.exec(
      header(request, 'authorization') ?? '',
    );
    if (!credential) continue; // unsigned: moto's own API
    const [, accessKeyId = '', region = at.region, service = ''] = credential;
    const target = header(request, 'x-amz-target');
    const text = bodyText(request);
    let operation: string;
    let params: Params;
    if (target) {
      operation = target.slice(target.lastIndexOf('.') + 1);
      params = text ? (JSON.parse(text) as Params) : {};
    } else {
      const form = new URLSearchParams(text || new URL(request.url).search);
      operation = form.get('Action') ?? '<unknown>';
      params = Object.fromEntries(form);
    }
    const arn = (rest: string) => `arn:${at.partition ?? 'aws'}:${service}:${region}:${at.account}:${rest}`;
    const permission = service === 'sqs' ? (SQS_BATCH_PERMISSION[operation] ?? operation) : operation;
    calls.push({
      accessKeyId,
      action: `${service}:${permission}`,
      resources: resourcesOf(service, operation, params, arn),
    });
  }
  return calls;
}

/** Calls per action, for the report. */
export function countByAction(calls: readonly RecordedCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.action] = (counts[call.action] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort());
}
