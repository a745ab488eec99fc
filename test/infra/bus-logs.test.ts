// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type InfraView, infraView } from './infra-config.ts';
import { blocksOf, firstBlock } from './validator/hcl.ts';
import { statementsOf } from './validator/security.ts';

/**
 * Event bus logging (infra/bus-logs.tf): what the deploy rehearsal cannot apply (the bus's log_config
 * needs provider 6.6; moto has no EventBridge log delivery source) is checked here, the rest there too.
 */
let infra: InfraView;
before(async () => {
  infra = await infraView();
});

const BUS_LOGGING = '${local.bus_logging ? 1 : 0}';

describe('event bus logging', () => {
  it('is set on the bus by two validated variables: ERROR without the events by default', () => {
    const level = infra.block('variable.event_bus_log_level').body;
    assert.equal(level.default, 'ERROR');
    assert.match(
      String(firstBlock(level, 'validation')?.condition),
      /contains\(\["OFF", "ERROR", "INFO", "TRACE"\], var\.event_bus_log_level\)/,
    );
    const detail = infra.block('variable.event_bus_log_include_detail').body;
    assert.equal(detail.default, 'NONE');
    assert.match(String(firstBlock(detail, 'validation')?.condition), /contains\(\["NONE", "FULL"\]/);
    assert.deepEqual(blocksOf(infra.block('aws_cloudwatch_event_bus.market_data').body, 'log_config'), [
      { level: '${var.event_bus_log_level}', include_detail: '${var.event_bus_log_include_detail}' },
    ]);
    assert.equal(infra.root.locals.get('bus_logging')?.value, '${var.event_bus_log_level != "OFF"}');
  });

  it('delivers each log type of the level and the more severe ones through a source of its own', () => {
    const types = String(infra.root.locals.get('bus_log_types')?.value);
    for (const [level, expected] of [
      ['OFF', '[]'],
      ['ERROR', '["ERROR_LOGS"]'],
      ['INFO', '["ERROR_LOGS", "INFO_LOGS"]'],
      ['TRACE', '["ERROR_LOGS", "INFO_LOGS", "TRACE_LOGS"]'],
    ] as const) {
      assert.match(types, new RegExp(`${level}\\s*=\\s*${expected.replace(/[[\]]/g, '\\$&')}`), level);
    }
    assert.match(types, /\}\[var\.event_bus_log_level\]/);
    const source = infra.block('aws_cloudwatch_log_delivery_source.bus').body;
    assert.equal(source.for_each, '${toset(local.bus_log_types)}');
    assert.equal(source.log_type, '${each.key}');
    assert.equal(source.resource_arn, '${aws_cloudwatch_event_bus.market_data.arn}');
    assert.equal(
      source.name,
      'logsource-eventbus-${lower(trimsuffix(each.key, "_LOGS"))}-${var.environment}',
    );
  });

  it('sends them to a log group of its own with the functions’ retention, one delivery after the other', () => {
    const group = infra.block('aws_cloudwatch_log_group.bus').body;
    assert.equal(group.count, BUS_LOGGING);
    assert.equal(group.name, '/aws/vendedlogs/events/eventbus-${var.project}-${var.environment}');
    assert.equal(group.retention_in_days, '${var.log_retention_days}');
    const destination = infra.block('aws_cloudwatch_log_delivery_destination.bus').body;
    assert.equal(destination.count, BUS_LOGGING);
    assert.equal(
      firstBlock(destination, 'delivery_destination_configuration')?.destination_resource_arn,
      '${aws_cloudwatch_log_group.bus[0].arn}',
    );
    const chain = [
      ['bus_errors', 'ERROR_LOGS', '${aws_cloudwatch_log_resource_policy.bus}'],
      ['bus_info', 'INFO_LOGS', '${aws_cloudwatch_log_delivery.bus_errors}'],
      ['bus_trace', 'TRACE_LOGS', '${aws_cloudwatch_log_delivery.bus_info}'],
    ] as const;
    for (const [name, type, after] of chain) {
      const delivery = infra.block(`aws_cloudwatch_log_delivery.${name}`).body;
      assert.equal(delivery.count, `\${contains(local.bus_log_types, "${type}") ? 1 : 0}`, name);
      assert.equal(
        delivery.delivery_source_name,
        `\${aws_cloudwatch_log_delivery_source.bus["${type}"].name}`,
      );
      assert.equal(
        delivery.delivery_destination_arn,
        '${aws_cloudwatch_log_delivery_destination.bus[0].arn}',
      );
      assert.deepEqual(delivery.depends_on, [after], `${name} waits for the one before`);
    }
  });

  it('lets only the log delivery service write, for this bus’s sources of this account', () => {
    const policy = infra.block('aws_cloudwatch_log_resource_policy.bus').body;
    assert.equal(policy.count, BUS_LOGGING);
    assert.equal(policy.policy_document, '${data.aws_iam_policy_document.bus_log_delivery[0].json}');
    const [statement, ...others] = statementsOf(
      infra.block('data.aws_iam_policy_document.bus_log_delivery').body,
    );
    assert.deepEqual(others, []);
    assert.deepEqual(statement?.actions, ['logs:CreateLogStream', 'logs:PutLogEvents']);
    assert.deepEqual(statement?.resources, ['${aws_cloudwatch_log_group.bus[0].arn}:log-stream:*']);
    assert.deepEqual(firstBlock(statement ?? {}, 'principals')?.identifiers, ['delivery.logs.amazonaws.com']);
    const conditions = Object.fromEntries(
      blocksOf(statement ?? {}, 'condition').map((condition) => [condition.variable, condition.values]),
    );
    assert.deepEqual(conditions['aws:SourceAccount'], ['${local.account_id}']);
    assert.deepEqual(conditions['aws:SourceArn'], [
      'arn:${local.partition}:logs:${local.region}:${local.account_id}:delivery-source:logsource-eventbus-*-${var.environment}',
    ]);
  });

  it('names the log group in an output', () => {
    assert.equal(
      infra.block('output.cloudwatch_bus_log_group_name').body.value,
      '${local.bus_logging ? aws_cloudwatch_log_group.bus[0].name : null}',
    );
  });
});
