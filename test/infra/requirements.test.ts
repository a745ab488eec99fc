// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { lambdaEnvironment } from '../../bench/cold-start.ts';
import { HANDLER_FILE } from '../../scripts/build-lambdas.ts';
import { parameterPrefix } from '../../src/config/parameters.ts';
import { STAGES } from '../../src/domain/event-types.ts';
import { DEFAULT_TRACING_PATH } from '../../src/lambda/tracing-path.ts';
import { METRICS_NAMESPACE } from '../../src/telemetry/metric-names.ts';
import { INFRA_DIR, type InfraView, infraView, REPOSITORY_ROOT } from './infra-config.ts';
import { blocksOf, firstBlock, type HclObject, isObject, stringsIn } from './validator/hcl.ts';
import { type CheckedName, checkNaming, NAMING_RULES } from './validator/naming.ts';
import { blocksOfKind } from './validator/parse.ts';
import { forEachKeys } from './validator/references.ts';
import { statementsOf } from './validator/security.ts';

/** Values CloudWatch Logs accepts for a log group's retention. */
const CLOUDWATCH_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

let infra: InfraView;
before(async () => {
  infra = await infraView();
});

function variable(name: string): HclObject {
  return infra.block(`variable.${name}`).body;
}

/** The regular expression of a `can(regex("...", var.x))` validation, as JavaScript understands it. */
function validationRegex(name: string): RegExp {
  const condition = String(firstBlock(variable(name), 'validation')?.condition ?? '');
  const literal = /regex\((".*?[^\\]")\s*,/.exec(condition)?.[1];
  assert.ok(literal, `validation of ${name} has no regex: ${condition}`);
  const pattern = (JSON.parse(literal) as string).replaceAll('[:space:]', '\\s');
  return new RegExp(pattern);
}

/** One row of the table "What the customer asked" in docs/requirements.md. */
interface Requirement {
  number: number;
  ask: string;
  met: string;
}

const REQUIREMENTS_DOC = readFileSync(path.join(REPOSITORY_ROOT, 'docs', 'requirements.md'), 'utf8');

function requirements(): Requirement[] {
  return REQUIREMENTS_DOC.split('\n').flatMap((line) => {
    const cells = /^\| (\d+) \| (.*) \| (.*) \|$/.exec(line);
    return cells ? [{ number: Number(cells[1]), ask: cells[2] ?? '', met: cells[3] ?? '' }] : [];
  });
}

function requirement(number: number): Requirement {
  const found = requirements().find((row) => row.number === number);
  assert.ok(found, `docs/requirements.md has no requirement ${number}`);
  return found;
}

/** A decision of docs/requirements.md ("Decisions where the asks conflict"), by its question. */
function decision(question: string): string {
  const row = REQUIREMENTS_DOC.split('\n').find((line) => line.startsWith(`| ${question} |`));
  assert.ok(row, `docs/requirements.md has no decision on ${question}`);
  return row;
}

const CITED_PATH = /^(infra|src|test|scripts|bench|docs|data|schemas)\//;

/** The repository paths a requirement's "how it is met" cites: backticked paths and linked docs. */
function citedPaths(met: string): string[] {
  const backticked = [...met.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');
  const linked = [...met.matchAll(/\]\(([a-z-]+\.md)(#[a-z-]+)?\)/g)].map((match) => `docs/${match[1]}`);
  return [...backticked.filter((token) => CITED_PATH.test(token)), ...linked];
}

/** The text of a cited path: the file, or every file under the folder (a `*.json` glob: those files). */
function citedText(cited: string): string {
  const [dir, glob] = cited.includes('*') ? [path.dirname(cited), path.basename(cited)] : [cited, undefined];
  const absolute = path.join(REPOSITORY_ROOT, dir);
  if (!statSync(absolute).isDirectory()) return readFileSync(absolute, 'utf8');
  const suffix = glob?.replace('*', '');
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && (suffix === undefined || entry.name.endsWith(suffix)))
    .map((entry) => readFileSync(path.join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

/** Every .tf file of infra/, as one text. */
function infraText(): string {
  return infra.root.files
    .concat([...infra.root.children.values()].flatMap((child) => child.files))
    .map((file) => file.source)
    .join('\n');
}

/** Whether a Terraform text declares or uses a name (`tracing_config`, `aws_x.y` as `resource "aws_x" "y"`). */
function mentions(text: string, name: string): boolean {
  const [type, label] = name.split('.');
  if (label !== undefined && /^aws_/.test(name)) return text.includes(`"${type}" "${label}"`);
  return new RegExp(`\\b${name}\\b`).test(text);
}

describe('layout', () => {
  it('pins terraform >= 1.5, aws ~> 6.0 with a floor of 6.19, archive, and a partial S3 backend', () => {
    const terraform = infra.block('terraform').body;
    assert.equal(terraform.required_version, '>= 1.5');
    const providers = firstBlock(terraform, 'required_providers');
    assert.deepEqual(providers?.aws, { source: 'hashicorp/aws', version: '~> 6.0, >= 6.19' });
    assert.ok(isObject(providers?.archive) && providers.archive.source === 'hashicorp/archive');
    assert.deepEqual(
      Object.keys(providers ?? {}).sort(),
      ['archive', 'aws'],
      'no provider nothing uses (random)',
    );
    const backend = terraform.backend;
    assert.ok(isObject(backend) && Array.isArray(backend.s3), 'backend "s3" is declared');
    assert.deepEqual(backend.s3, [{}], 'backend settings come from -backend-config');
  });

  it('uses one stage module three times with for_each over the stages', () => {
    const call = infra.block('module.stage');
    assert.equal(call.body.source, './modules/stage');
    assert.deepEqual(forEachKeys(infra.root, call.body.for_each)?.sort(), [...STAGES].sort());
    assert.equal(blocksOfKind(infra.stageContext.module, 'resource', 'aws_lambda_function').length, 1);
  });

  it('tags every resource through default_tags: Environment, Project, CostCenter, ManagedBy', () => {
    const tags = firstBlock(infra.block('provider.aws').body, 'default_tags')?.tags;
    assert.ok(isObject(tags), 'default_tags { tags = {...} }');
    assert.deepEqual(Object.keys(tags).sort(), ['CostCenter', 'Environment', 'ManagedBy', 'Project']);
    assert.equal(tags.Environment, '${var.environment}');
    assert.equal(tags.Project, '${var.project}');
    assert.equal(tags.CostCenter, '${var.cost_center}');
    assert.equal(infra.value('provider.aws', 'region'), 'us-east-1');
  });

  it("takes the region from var.aws_region (the provider's own), not data.aws_region: .name in provider 5, .region in 6", () => {
    for (const block of infra.root.blocks) {
      for (const { text } of stringsIn(block.body)) assert.doesNotMatch(text, /data\.aws_region\./);
    }
    assert.equal(infra.root.locals.get('region')?.value, '${var.aws_region}');
  });
});

describe('docs/requirements.md holds for infra/', () => {
  it('reads every requirement of the table, numbered in order', () => {
    assert.deepEqual(
      requirements().map((row) => row.number),
      Array.from({ length: requirements().length }, (_, index) => index + 1),
    );
    assert.ok(requirements().length >= 15, `${requirements().length} requirements`);
  });

  it('every file or folder a requirement says meets it exists', () => {
    for (const row of requirements()) {
      for (const cited of citedPaths(row.met)) {
        const dir = cited.includes('*') ? path.dirname(cited) : cited;
        assert.ok(existsSync(path.join(REPOSITORY_ROOT, dir)), `requirement ${row.number} cites ${cited}`);
        assert.ok(citedText(cited).length > 0, `requirement ${row.number}: ${cited} holds nothing`);
      }
    }
  });

  it('every Terraform name a requirement says meets it is in infra/ or the files it cites; what it says is nowhere is nowhere', () => {
    const terraform = infraText();
    for (const row of requirements()) {
      const absent = [...row.met.matchAll(/no `([a-z_]+)` anywhere/g)].map((match) => match[1] ?? '');
      for (const name of absent)
        assert.ok(!mentions(terraform, name), `requirement ${row.number}: ${name} is in infra/`);
      const cited = citedPaths(row.met).map(citedText).join('\n');
      const names = [...row.met.matchAll(/`([a-z][a-z0-9_]*(\.[a-z0-9_]+)?)`/g)]
        .map((match) => match[1] ?? '')
        .filter((name) => name.includes('_') && !absent.includes(name));
      for (const name of names)
        assert.ok(
          mentions(terraform, name) || mentions(cited, name),
          `requirement ${row.number} names ${name}, which neither infra/ nor its files hold`,
        );
    }
  });

  it('each function gets the memory, timeout and reserved concurrency requirement 3 states, by default', () => {
    const { met } = requirement(3);
    const names = [...met.matchAll(/`(lambda_memory_mb|lambda_timeout_seconds|reserved_concurrency)`/g)].map(
      (match) => match[1] ?? '',
    );
    const defaults = /\(defaults ([\d, ]+)\)/.exec(met)?.[1]?.split(', ').map(Number);
    assert.equal(names.length, 3, met);
    assert.equal(defaults?.length, 3, met);
    const fn = 'stage:aws_lambda_function.this';
    const deployed = [
      infra.value(fn, 'memory_size'),
      infra.value(fn, 'timeout'),
      infra.value(fn, 'reserved_concurrent_executions'),
    ];
    assert.deepEqual(
      names.map((name) => variable(name).default),
      defaults,
      'the variables default to the stated figures',
    );
    assert.deepEqual(deployed, defaults, 'the function receives them');
  });

  it('each function runs on the runtime and architecture the decisions name', () => {
    const [, runtime, architecture] =
      /Lambda runtime `([a-z0-9.]+)` on `([a-z0-9]+)`/.exec(decision('Language and runtime')) ?? [];
    assert.ok(runtime && architecture, 'the decision names a runtime and an architecture');
    assert.equal(infra.value('stage:aws_lambda_function.this', 'runtime'), runtime);
    assert.deepEqual(infra.value('stage:aws_lambda_function.this', 'architectures'), [architecture]);
  });

  it('every log group keeps its logs as long as the log retention decision says', () => {
    const days = Number(/`log_retention_days`, default (\d+)/.exec(decision('Log retention'))?.[1]);
    assert.equal(variable('log_retention_days').default, days);
    const groups = [
      ...blocksOfKind(infra.root, 'resource', 'aws_cloudwatch_log_group').map((block) => block.address),
      ...blocksOfKind(infra.stageContext.module, 'resource', 'aws_cloudwatch_log_group').map(
        (block) => `stage:${block.address}`,
      ),
    ];
    assert.ok(groups.length >= 2, groups.join());
    for (const group of groups) assert.equal(infra.value(group, 'retention_in_days'), days, group);
  });

  it('has as many outputs as requirement 13 says, within the range it asks', () => {
    const { ask, met } = requirement(13);
    const count = blocksOfKind(infra.root, 'output').length;
    assert.equal(count, Number(/(\d+) outputs in `infra\/outputs.tf`/.exec(met)?.[1]), 'the count stated');
    const [, least, most] = /(\d+) to (\d+) outputs/.exec(ask) ?? [];
    assert.ok(count >= Number(least) && count <= Number(most), `${count} outputs, asked ${least} to ${most}`);
  });
});

describe('every rule target and every function, whatever the module', () => {
  const modules = () => [
    { module: infra.root, prefix: '' },
    { module: infra.stageContext.module, prefix: 'stage:' },
  ];

  it('every EventBridge target retries and dead-letters what it cannot deliver', () => {
    const targets = modules().flatMap(({ module }) =>
      blocksOfKind(module, 'resource', 'aws_cloudwatch_event_target'),
    );
    assert.ok(targets.length > 0, 'targets found');
    for (const target of targets) {
      const retry = firstBlock(target.body, 'retry_policy');
      assert.ok(
        retry?.maximum_retry_attempts !== undefined && retry.maximum_event_age_in_seconds !== undefined,
        `${target.address} has a retry policy with attempts and event age`,
      );
      assert.match(
        String(firstBlock(target.body, 'dead_letter_config')?.arn),
        /aws_sqs_queue\.[a-z_]+\.arn/,
        `${target.address} dead-letters to a queue`,
      );
    }
  });

  it('every function logs to a log group of its own name, created before it (so Lambda never creates one without retention)', () => {
    const functions = modules().flatMap(({ module, prefix }) =>
      blocksOfKind(module, 'resource', 'aws_lambda_function').map((fn) => ({ fn, module, prefix })),
    );
    assert.ok(functions.length > 0, 'functions found');
    for (const { fn, module, prefix } of functions) {
      const group = /^\$\{aws_cloudwatch_log_group\.([a-z_]+)\.name\}$/.exec(
        String(firstBlock(fn.body, 'logging_config')?.log_group),
      )?.[1];
      assert.ok(group, `${fn.address} names its log group`);
      const declared = blocksOfKind(module, 'resource', 'aws_cloudwatch_log_group').find(
        (block) => block.name === group,
      );
      assert.ok(declared, `${fn.address}: no log group ${group}`);
      assert.ok(
        (fn.body.depends_on as unknown[] | undefined)?.includes(`\${aws_cloudwatch_log_group.${group}}`),
        `${fn.address} depends on its log group`,
      );
      const functionName = String(infra.block(`${prefix}${fn.address}`).body.function_name);
      assert.equal(
        declared.body.name,
        `/aws/lambda/${functionName}`,
        `${fn.address}: the group Lambda writes to`,
      );
    }
  });
});

describe('variables', () => {
  it('every variable of every module has a description and a type', () => {
    for (const module of [infra.root, infra.stageContext.module]) {
      for (const block of blocksOfKind(module, 'variable')) {
        assert.ok(
          typeof block.body.description === 'string' && block.body.description.length > 0,
          block.address,
        );
        assert.ok(typeof block.body.type === 'string', `${block.address} has a type`);
      }
    }
  });

  it('validates environment as lowercase letters, digits and hyphens', () => {
    const pattern = validationRegex('environment');
    for (const good of ['dev', 'pr-42', 'prod2']) assert.match(good, pattern);
    for (const bad of ['Dev', 'dev_1', '', 'dev env']) assert.doesNotMatch(bad, pattern);
  });

  it('validates notification_email when it is set', () => {
    const pattern = validationRegex('notification_email');
    for (const good of ['ops@example.com', 'first.last+alerts@mail.example.co.uk'])
      assert.match(good, pattern);
    for (const bad of ['ops', 'ops@example', '@example.com', 'o ps@example.com'])
      assert.doesNotMatch(bad, pattern);
    assert.match(String(firstBlock(variable('notification_email'), 'validation')?.condition), /== null \|\|/);
  });

  it('validates log_retention_days against the values CloudWatch accepts', () => {
    const condition = String(firstBlock(variable('log_retention_days'), 'validation')?.condition);
    const allowed = /contains\(\[([\d,\s]+)\]/
      .exec(condition)?.[1]
      ?.split(',')
      .map((day) => Number(day.trim()));
    assert.deepEqual(allowed, CLOUDWATCH_RETENTION_DAYS);
  });

  it('validates memory, timeout and concurrency ranges', () => {
    const ranges: Record<string, RegExp> = {
      lambda_memory_mb: /var\.lambda_memory_mb >= 128 && var\.lambda_memory_mb <= 10240/,
      lambda_timeout_seconds: /var\.lambda_timeout_seconds >= 1 && var\.lambda_timeout_seconds <= 900/,
      reserved_concurrency: /var\.reserved_concurrency >= 1/,
      max_event_age_seconds: /var\.max_event_age_seconds >= 60 && var\.max_event_age_seconds <= 21600/,
    };
    for (const [name, pattern] of Object.entries(ranges)) {
      assert.match(String(firstBlock(variable(name), 'validation')?.condition), pattern, name);
    }
  });
});

describe('per stage', () => {
  const fn = 'stage:aws_lambda_function.this';

  it('traces with X-Ray in Active mode', () => {
    assert.equal(firstBlock(infra.block(fn).body, 'tracing_config')?.mode, 'Active');
  });

  it('has a dead_letter_config pointing at its queue', () => {
    assert.equal(
      firstBlock(infra.block(fn).body, 'dead_letter_config')?.target_arn,
      '${aws_sqs_queue.dead_letter.arn}',
    );
  });

  it('logs JSON unless debug sampling is on', () => {
    const logging = firstBlock(infra.block(fn).body, 'logging_config');
    // JSON unless debug sampling is on (then Text, so that Lambda keeps the sampled DEBUG lines).
    assert.equal(logging?.log_format, '${local.log_sampled ? "Text" : "JSON"}');
    assert.equal(logging?.application_log_level, '${local.log_sampled ? null : var.log_level}');
    assert.equal(infra.stageContext.module.locals.get('log_sampled')?.value, '${var.log_sample_rate > 0}');
    assert.equal(variable('log_sample_rate').default, 0);
    assert.equal(infra.block('module.stage').body.log_sample_rate, '${var.log_sample_rate}');
  });

  it('deploys the esbuild bundle zipped by archive_file, with source_code_hash', () => {
    const body = infra.block(fn).body;
    // Lambda's Node runtime resolves index.handler to index.cjs and loads it with require.
    assert.equal(`${body.handler}`, `${HANDLER_FILE.replace(/\.cjs$/, '')}.handler`);
    assert.equal(body.filename, '${data.archive_file.bundle.output_path}');
    assert.equal(body.source_code_hash, '${data.archive_file.bundle.output_base64sha256}');
    assert.equal(infra.value('stage:data.archive_file.bundle', 'type'), 'zip');
    assert.equal(
      infra.value('stage:data.archive_file.bundle', 'source_dir'),
      '${path.module}/../dist/lambda/${each.key}',
    );
  });

  it('gets only the parameter prefix and Powertools settings as environment', () => {
    const variables = firstBlock(infra.block(fn).body, 'environment')?.variables;
    assert.ok(isObject(variables));
    assert.deepEqual(Object.keys(variables).sort(), [
      'MARKETFLOW_EVENT_TYPE_SHARDS',
      'MARKETFLOW_PARAMETER_PREFIX',
      'MARKETFLOW_TRACING',
      'NODE_OPTIONS',
      'POWERTOOLS_LOGGER_SAMPLE_RATE',
      'POWERTOOLS_LOG_LEVEL',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_PARAMETERS_MAX_AGE',
      'POWERTOOLS_SERVICE_NAME',
    ]);
    assert.equal(variables.POWERTOOLS_SERVICE_NAME, '${var.stage}');
    assert.equal(infra.root.locals.get('metrics_namespace')?.value, METRICS_NAMESPACE);
    assert.equal(infra.block('module.stage').body.metrics_namespace, '${local.metrics_namespace}');
    assert.equal(variables.POWERTOOLS_METRICS_NAMESPACE, '${var.metrics_namespace}');
    assert.equal(variables.POWERTOOLS_LOGGER_SAMPLE_RATE, '${tostring(var.log_sample_rate)}');
    assert.equal(infra.root.locals.get('parameter_prefix')?.value, parameterPrefix('${var.environment}'));
    assert.equal(variables.MARKETFLOW_PARAMETER_PREFIX, '${var.parameter_prefix}');
    // Source maps cost cold-start time: only when asked for, and off by default.
    assert.equal(variables.NODE_OPTIONS, '${var.enable_source_maps ? "--enable-source-maps" : ""}');
    assert.equal(variable('enable_source_maps').default, false);
    assert.equal(infra.block('module.stage').body.enable_source_maps, '${var.enable_source_maps}');
    // The tracing path: a validated variable whose default is the code's.
    assert.equal(variables.MARKETFLOW_TRACING, '${var.tracing_path}');
    assert.equal(infra.block('module.stage').body.tracing_path, '${var.tracing_path}');
    assert.equal(variable('tracing_path').default, DEFAULT_TRACING_PATH);
    assert.match(JSON.stringify(variable('tracing_path').validation), /opentelemetry.*powertools/);
    // The cold-start benchmark loads the bundles with the same variables.
    const benchmarked = lambdaEnvironment('ingestion');
    for (const name of Object.keys(variables)) assert.ok(name in benchmarked, `bench lacks ${name}`);
    assert.equal(benchmarked.NODE_OPTIONS, '');
    assert.equal(benchmarked.MARKETFLOW_TRACING, DEFAULT_TRACING_PATH);
    assert.equal(benchmarked.POWERTOOLS_LOG_LEVEL, variable('log_level').default);
    assert.equal(benchmarked.POWERTOOLS_LOGGER_SAMPLE_RATE, String(variable('log_sample_rate').default));
    assert.equal(
      benchmarked.POWERTOOLS_PARAMETERS_MAX_AGE,
      String(variable('parameters_cache_seconds').default),
    );
  });

  it('retries a failed invocation twice within a bounded event age, then dead-letters it once', () => {
    const config = 'stage:aws_lambda_function_event_invoke_config.this';
    assert.equal(infra.value(config, 'maximum_retry_attempts'), 2);
    const age = infra.value(config, 'maximum_event_age_in_seconds');
    assert.ok(typeof age === 'number' && age >= 60 && age <= 21600, `event age ${String(age)}`);
    assert.equal(
      firstBlock(infra.block(config).body, 'destination_config'),
      undefined,
      'the dead_letter_config is the one dead letter: an on-failure destination would add a second',
    );
  });

  it('has an encrypted dead-letter queue with the retention and visibility the requirement asks', () => {
    const ask = /(\d+) days retention, visibility (\d+) s/.exec(requirement(4).ask);
    assert.ok(ask, `requirement 4 states no retention and visibility: ${requirement(4).ask}`);
    const queue = 'stage:aws_sqs_queue.dead_letter';
    assert.equal(infra.value(queue, 'message_retention_seconds'), Number(ask[1]) * 24 * 3600);
    assert.equal(infra.value(queue, 'visibility_timeout_seconds'), Number(ask[2]));
    assert.equal(infra.value(queue, 'sqs_managed_sse_enabled'), true);
    assert.equal(
      infra.block(queue).body.redrive_policy,
      undefined,
      'a dead-letter queue has no dead-letter queue',
    );
  });

  it('lets EventBridge deliver failed targets to the queue, only from its rule', () => {
    const statement = firstBlock(
      infra.block('stage:data.aws_iam_policy_document.dead_letter').body,
      'statement',
    );
    assert.deepEqual(statement?.actions, ['sqs:SendMessage']);
    assert.deepEqual(statement?.resources, ['${aws_sqs_queue.dead_letter.arn}']);
    assert.deepEqual(firstBlock(statement ?? {}, 'principals'), {
      type: 'Service',
      identifiers: ['events.amazonaws.com'],
    });
    assert.deepEqual(firstBlock(statement ?? {}, 'condition')?.values, [
      '${aws_cloudwatch_event_rule.this.arn}',
    ]);
    assert.equal(
      infra.block('stage:aws_sqs_queue_policy.dead_letter').body.queue_url,
      '${aws_sqs_queue.dead_letter.id}',
    );
  });

  it('routes with a rule on the custom bus whose pattern is read from infra/patterns/<stage>.json', () => {
    assert.equal(
      infra.block('stage:aws_cloudwatch_event_rule.this').body.event_pattern,
      '${var.event_pattern}',
    );
    assert.equal(
      infra.block('module.stage').body.event_pattern,
      '${file("${path.module}/patterns/${each.key}.json")}',
    );
    assert.equal(
      infra.block('module.stage').body.event_bus_name,
      '${aws_cloudwatch_event_bus.market_data.name}',
    );
    for (const stage of STAGES)
      assert.ok(existsSync(path.join(INFRA_DIR, 'patterns', `${stage}.json`)), stage);
  });

  it('targets the function in direct mode, its delivery queue in queued mode', () => {
    const target = infra.block('stage:aws_cloudwatch_event_target.this').body;
    assert.equal(
      target.arn,
      '${local.queued ? aws_sqs_queue.delivery[0].arn : aws_lambda_function.this.arn}',
    );
    assert.equal(target.event_bus_name, '${var.event_bus_name}');
  });

  it('lets only its rule invoke the function', () => {
    const permission = infra.block('stage:aws_lambda_permission.events').body;
    assert.equal(permission.principal, 'events.amazonaws.com');
    assert.equal(permission.action, 'lambda:InvokeFunction');
    assert.equal(permission.source_arn, '${aws_cloudwatch_event_rule.this.arn}');
  });

  it('alarms on Errors, Throttles and dead-letter queue depth', () => {
    const alarms = infra.stageContext.module.locals.get('function_alarms')?.value;
    assert.deepEqual(Object.values(alarms as HclObject).sort(), ['Errors', 'Throttles']);
    const fnAlarm = infra.block('stage:aws_cloudwatch_metric_alarm.function').body;
    assert.equal(fnAlarm.namespace, 'AWS/Lambda');
    assert.equal(fnAlarm.statistic, 'Sum');
    assert.equal(fnAlarm.period, 60);
    assert.equal(fnAlarm.threshold, 0);
    const depth = infra.block('stage:aws_cloudwatch_metric_alarm.dead_letter_depth').body;
    assert.equal(depth.metric_name, 'ApproximateNumberOfMessagesVisible');
    assert.deepEqual(depth.dimensions, { QueueName: '${aws_sqs_queue.dead_letter.name}' });
    for (const alarm of [fnAlarm, depth]) assert.deepEqual(alarm.alarm_actions, ['${var.alarm_topic_arn}']);
    assert.equal(infra.block('module.stage').body.alarm_topic_arn, '${aws_sns_topic.alerts.arn}');
  });
});

describe('shared', () => {
  it('has a custom bus and an archive of all its events, kept as long as the requirement asks', () => {
    const days = /for (\d+) days/.exec(requirement(10).ask)?.[1];
    assert.ok(days, `requirement 10 states no archive retention: ${requirement(10).ask}`);
    const archive = infra.block('aws_cloudwatch_event_archive.all_events');
    assert.equal(archive.body.event_source_arn, '${aws_cloudwatch_event_bus.market_data.arn}');
    assert.equal(archive.body.event_pattern, undefined, 'no pattern: every event is archived');
    assert.equal(infra.value('aws_cloudwatch_event_archive.all_events', 'retention_days'), Number(days));
  });

  it('bills both tables on demand, encrypted, with point-in-time recovery and variable deletion protection', () => {
    for (const table of ['aws_dynamodb_table.events', 'aws_dynamodb_table.audit']) {
      const body = infra.block(table).body;
      assert.equal(body.billing_mode, 'PAY_PER_REQUEST', table);
      assert.equal(firstBlock(body, 'server_side_encryption')?.enabled, true, `${table} encryption`);
      assert.equal(
        firstBlock(body, 'point_in_time_recovery')?.enabled,
        true,
        `${table} point-in-time recovery`,
      );
      assert.equal(body.deletion_protection_enabled, '${var.deletion_protection}');
      assert.equal(infra.value(table, 'deletion_protection_enabled'), false);
    }
  });

  it('encrypts the topic with a customer managed key that alarms and the notification function may use', () => {
    assert.equal(infra.block('aws_sns_topic.alerts').body.kms_master_key_id, '${aws_kms_key.sns.arn}');
    assert.equal(
      infra.block('aws_kms_key_policy.sns').body.policy,
      '${data.aws_iam_policy_document.sns_key.json}',
    );
    const statements = blocksOf(infra.block('data.aws_iam_policy_document.sns_key').body, 'statement');
    const principalsOf = (statement: HclObject) =>
      blocksOf(statement, 'principals').flatMap((p) => p.identifiers);
    const users = statements.filter((statement) =>
      JSON.stringify(statement.actions).includes('kms:GenerateDataKey*'),
    );
    assert.deepEqual(users.flatMap(principalsOf).sort(), [
      '${module.stage["notification"].role_arn}',
      'cloudwatch.amazonaws.com',
    ]);
    for (const statement of users)
      assert.deepEqual(statement.actions, ['kms:GenerateDataKey*', 'kms:Decrypt']);
    assert.equal(infra.block('aws_kms_key.sns').body.enable_key_rotation, true);
  });

  it('lets CloudWatch use the topic key only for alarms of this account', () => {
    const statements = blocksOf(infra.block('data.aws_iam_policy_document.sns_key').body, 'statement');
    const cloudwatch = statements.find((statement) => statement.sid === 'CloudWatchAlarmsEncrypt');
    const conditions = Object.fromEntries(
      blocksOf(cloudwatch ?? {}, 'condition').map((c) => [c.variable, [c.test, c.values]]),
    );
    assert.deepEqual(conditions, {
      'aws:SourceAccount': ['StringEquals', ['${local.account_id}']],
      'aws:SourceArn': [
        'ArnLike',
        ['arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:*'],
      ],
    });
  });

  it('accepts MarketData.Validated, MarketData.Alert and marketflow.* sources only from the roles that emit them', () => {
    const policy = infra.block('aws_cloudwatch_event_bus_policy.internal_events').body;
    assert.equal(policy.event_bus_name, '${aws_cloudwatch_event_bus.market_data.name}');
    assert.equal(policy.policy, '${data.aws_iam_policy_document.internal_events.json}');
    const [statement, ...others] = statementsOf(
      infra.block('data.aws_iam_policy_document.internal_events').body,
    );
    assert.deepEqual(others, [], 'one statement per entry of local.internal_event_denials');
    assert.equal(statement?.sid, '${statement.key}');
    assert.equal(statement?.effect, 'Deny');
    assert.deepEqual(statement?.actions, ['events:PutEvents']);
    assert.deepEqual(statement?.resources, ['${aws_cloudwatch_event_bus.market_data.arn}']);
    assert.deepEqual(
      blocksOf(statement ?? {}, 'condition').map((c) => [c.test, c.variable, c.values]),
      [
        ['${statement.value.test}', '${statement.value.variable}', '${statement.value.values}'],
        ['StringNotEquals', 'aws:PrincipalArn', '${statement.value.allowed}'],
        ['Bool', 'aws:PrincipalIsAWSService', ['false']],
      ],
      'replays by AWS services stay allowed',
    );
    assert.deepEqual(infra.root.locals.get('internal_event_denials')?.value, {
      OnlyStagesUseMarketflowSources: {
        test: 'ForAnyValue:StringLike',
        variable: 'events:source',
        values: ['marketflow.*'],
        allowed: '${distinct(concat(local.ingestion_publishers, local.processing_publishers))}',
      },
      OnlyIngestionPutsValidated: {
        test: 'ForAnyValue:StringEquals',
        variable: 'events:detail-type',
        values: ['MarketData.Validated'],
        allowed: '${local.ingestion_publishers}',
      },
      OnlyProcessingPutsAlerts: {
        test: 'ForAnyValue:StringEquals',
        variable: 'events:detail-type',
        values: ['MarketData.Alert'],
        allowed: '${local.processing_publishers}',
      },
    });
    assert.equal(
      infra.root.locals.get('ingestion_publishers')?.value,
      '${concat([module.stage["ingestion"].role_arn], var.internal_event_publishers)}',
    );
    assert.equal(
      infra.root.locals.get('processing_publishers')?.value,
      '${concat([module.stage["processing"].role_arn], var.internal_event_publishers)}',
    );
    // The patterns the forgery would have to match are exactly what the policy guards.
    for (const stage of ['processing', 'notification']) {
      const pattern = JSON.parse(readFileSync(path.join(INFRA_DIR, 'patterns', `${stage}.json`), 'utf8'));
      assert.match(pattern.source[0], /^marketflow\./);
    }
  });

  it('lets CloudWatch alarms of this account publish to the topic', () => {
    const statement = firstBlock(infra.block('data.aws_iam_policy_document.alerts_topic').body, 'statement');
    assert.deepEqual(statement?.actions, ['sns:Publish']);
    assert.deepEqual(statement?.resources, ['${aws_sns_topic.alerts.arn}']);
    assert.deepEqual(firstBlock(statement ?? {}, 'principals')?.identifiers, ['cloudwatch.amazonaws.com']);
    const conditions = blocksOf(statement ?? {}, 'condition');
    assert.ok(
      conditions.some(
        (c) => c.variable === 'aws:SourceAccount' && JSON.stringify(c.values).includes('local.account_id'),
      ),
    );
  });

  it('subscribes the e-mail address only when one is given', () => {
    const subscription = infra.block('aws_sns_topic_subscription.email').body;
    assert.equal(subscription.count, '${var.notification_email == null ? 0 : 1}');
    assert.equal(subscription.protocol, 'email');
    assert.equal(subscription.endpoint, '${var.notification_email}');
  });

  it('publishes the event JSON Schema (draft 4) from the committed schema file', () => {
    const schema = infra.block('aws_schemas_schema.market_data_raw').body;
    assert.equal(schema.type, 'JSONSchemaDraft4');
    assert.equal(schema.content, '${file("${path.module}/../schemas/market-data-raw.schema.json")}');
    assert.equal(schema.registry_name, '${aws_schemas_registry.market_data.name}');
    const file = path.join(INFRA_DIR, '../schemas/market-data-raw.schema.json');
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { $schema?: string };
    assert.equal(parsed.$schema, 'http://json-schema.org/draft-04/schema#');
  });

  it('alarms on DynamoDB consumed read and write capacity of both tables', () => {
    const metrics = infra.root.locals.get('table_capacity_metrics')?.value as HclObject;
    assert.deepEqual(Object.values(metrics).sort(), [
      'ConsumedReadCapacityUnits',
      'ConsumedWriteCapacityUnits',
    ]);
    assert.deepEqual(Object.keys(infra.root.locals.get('tables')?.value as HclObject).sort(), [
      'audit',
      'events',
    ]);
    assert.equal(infra.block('aws_cloudwatch_metric_alarm.table_capacity').body.namespace, 'AWS/DynamoDB');
  });

  it('alarms on EventBridge failed invocations of every rule', () => {
    const alarm = infra.block('aws_cloudwatch_metric_alarm.failed_invocations').body;
    assert.equal(alarm.namespace, 'AWS/Events');
    assert.equal(alarm.metric_name, 'FailedInvocations');
    assert.deepEqual(forEachKeys(infra.root, alarm.for_each)?.sort(), [...STAGES].sort());
  });

  it('alarms on end-to-end latency: p99 of the EMF metric LatencyFromIngestion', () => {
    const alarm = infra.block('aws_cloudwatch_metric_alarm.end_to_end_latency').body;
    assert.equal(
      infra.value('aws_cloudwatch_metric_alarm.end_to_end_latency', 'namespace'),
      METRICS_NAMESPACE,
    );
    assert.equal(alarm.metric_name, 'LatencyFromIngestion');
    assert.equal(alarm.extended_statistic, 'p99');
    assert.deepEqual(alarm.dimensions, { service: '${each.key}', environment: '${var.environment}' });
    assert.deepEqual(forEachKeys(infra.root, alarm.for_each)?.sort(), ['notification', 'processing']);
  });

  it('sends every alarm to the alert topic', () => {
    for (const module of [infra.root, infra.stageContext.module]) {
      for (const alarm of blocksOfKind(module, 'resource', 'aws_cloudwatch_metric_alarm')) {
        assert.equal(
          Array.isArray(alarm.body.alarm_actions) && alarm.body.alarm_actions.length,
          1,
          alarm.address,
        );
      }
    }
  });
});

describe('names', () => {
  it('every named resource matches its {type}-{purpose}-{environment} rule', () => {
    const checked: CheckedName[] = [];
    assert.deepEqual(checkNaming(infra.root, checked), []);
    const namedTypes = new Set(checked.map(({ block }) => block.type));
    for (const module of [infra.root, infra.stageContext.module]) {
      for (const block of blocksOfKind(module, 'resource')) {
        if (NAMING_RULES[block.type]) assert.ok(namedTypes.has(block.type), `${block.address} was checked`);
      }
    }
    assert.ok(checked.length >= 20, `${checked.length} names checked`);
  });

  it('names the stage resources after the stage and the environment', () => {
    assert.equal(
      infra.stageContext.module.locals.get('function_name')?.value,
      'lambda-${var.stage}-${var.environment}',
    );
    assert.equal(
      infra.block('stage:aws_sqs_queue.dead_letter').body.name,
      'sqs-${var.stage}-dlq-${var.environment}',
    );
    assert.equal(
      infra.block('aws_cloudwatch_dashboard.pipeline').body.dashboard_name,
      'dashboard-${var.project}-${var.environment}',
    );
  });
});

describe('outputs', () => {
  const GROUPS: Record<string, number> = {
    lambda_: 9,
    eventbridge_: 4,
    dynamodb_: 4,
    sqs_: 6,
    sns_: 2,
    cloudwatch_: 2,
    ssm_: 1,
  };

  it('has at least 30 outputs, each with a description', () => {
    const outputs = blocksOfKind(infra.root, 'output');
    assert.ok(outputs.length >= 30, `${outputs.length} outputs`);
    for (const output of outputs) {
      assert.ok(
        typeof output.body.description === 'string' && output.body.description.length > 10,
        output.name,
      );
    }
  });

  it('groups outputs as the requirements list them', () => {
    const names = blocksOfKind(infra.root, 'output').map((output) => output.name);
    for (const [prefix, minimum] of Object.entries(GROUPS)) {
      const count = names.filter((name) => name.startsWith(prefix)).length;
      assert.ok(count >= minimum, `${prefix}* has ${count} outputs, at least ${minimum} expected`);
    }
    for (const stage of STAGES) {
      for (const suffix of ['function_name', 'function_arn', 'role_arn']) {
        assert.ok(names.includes(`lambda_${stage}_${suffix}`), `lambda_${stage}_${suffix}`);
      }
    }
    for (const name of [
      'environment',
      'aws_region',
      'aws_account_id',
      'eventbridge_rule_names',
      'eventbridge_archive_arn',
    ]) {
      assert.ok(names.includes(name), name);
    }
  });

  it('marks the topic ARN and the queue URLs sensitive', () => {
    const sensitive = blocksOfKind(infra.root, 'output')
      .filter((output) => output.body.sensitive === true)
      .map((output) => output.name);
    for (const name of ['sns_topic_arn', ...STAGES.map((stage) => `sqs_${stage}_dlq_url`)]) {
      assert.ok(sensitive.includes(name), `${name} is sensitive`);
    }
  });
});
