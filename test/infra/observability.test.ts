// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions, not JavaScript templates.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { METRICS_NAMESPACE, Metric } from '../../src/telemetry/metric-names.ts';
import { type InfraView, infraView } from './infra-config.ts';
import { analyseExpression } from './validator/expressions.ts';
import { type HclObject, isObject } from './validator/hcl.ts';

const METRIC_NAMES = new Set<string>(Object.values(Metric));

let infra: InfraView;
before(async () => {
  infra = await infraView();
});

function local(name: string): HclObject {
  const value = infra.root.locals.get(name)?.value;
  assert.ok(isObject(value), `local.${name} is a literal map`);
  return value;
}

describe('CloudWatch dashboard', () => {
  it('is named dashboard-marketflow-<env>', () => {
    assert.equal(
      infra.block('aws_cloudwatch_dashboard.pipeline').body.dashboard_name,
      'dashboard-${var.project}-${var.environment}',
    );
    assert.equal(infra.block('variable.project').body.default, 'marketflow');
  });

  it('has per-stage panels for Lambda invocations, errors, duration and throttles', () => {
    assert.deepEqual(Object.keys(local('dashboard_lambda_metrics')).sort(), [
      'Duration',
      'Errors',
      'Invocations',
      'Throttles',
    ]);
  });

  it('has panels for EventBridge matched events and failed invocations per rule', () => {
    assert.deepEqual(Object.keys(local('dashboard_rule_metrics')).sort(), [
      'FailedInvocations',
      'MatchedEvents',
    ]);
  });

  it('has panels for DynamoDB consumed read and write capacity', () => {
    assert.deepEqual(Object.keys(local('dashboard_table_metrics')).sort(), [
      'ConsumedReadCapacityUnits',
      'ConsumedWriteCapacityUnits',
    ]);
  });

  it('has the EMF latency panels at p50 and p99, and the alert metrics', () => {
    const panels = Object.values(local('dashboard_emf_panels')) as HclObject[];
    const statsOf = (metric: string) => panels.find((p) => (p.metrics as string[]).includes(metric))?.stats;
    assert.deepEqual(statsOf('LatencyFromMarket'), ['p50', 'p99']);
    assert.deepEqual(statsOf('LatencyFromIngestion'), ['p50', 'p99']);
    const shown = panels.flatMap((panel) => panel.metrics as string[]);
    for (const metric of ['AlertsRaised', 'NotificationsSent', 'EventsRejected', 'DuplicatesSkipped']) {
      assert.ok(shown.includes(metric), metric);
    }
    for (const metric of shown) assert.ok(METRIC_NAMES.has(metric), `${metric} is in metric-names.ts`);
  });

  it('builds the widgets with for expressions over those panels, the stages and the dead-letter queues', async () => {
    const widgets = String(infra.root.locals.get('dashboard_widgets')?.value);
    const roots = new Set(
      (await analyseExpression(widgets)).references.map((r) => r.root.slice(0, 2).join('.')),
    );
    for (const name of [
      'dashboard_lambda_metrics',
      'dashboard_rule_metrics',
      'dashboard_table_metrics',
      'dashboard_emf_panels',
      'stages',
      'tables',
      'metrics_namespace',
    ]) {
      assert.ok(roots.has(`local.${name}`), `widgets use local.${name}`);
    }
    assert.ok(roots.has('module.stage'));
    assert.match(widgets, /"AWS\/SQS", "ApproximateNumberOfMessagesVisible"/);
    assert.equal((widgets.match(/\bfor\b/g) ?? []).length >= 5, true, 'widgets come from for expressions');
    const body = String(infra.block('aws_cloudwatch_dashboard.pipeline').body.dashboard_body);
    const facts = await analyseExpression(body);
    assert.ok(facts.calls.some((call) => call.name === 'jsonencode'));
    assert.ok(facts.references.some((r) => r.root.join('.') === 'local.dashboard_widgets'));
  });
});

describe('alarms use metric names the code emits', () => {
  it('the latency alarm watches a metric of metric-names.ts in its namespace', () => {
    const alarm = 'aws_cloudwatch_metric_alarm.end_to_end_latency';
    assert.ok(METRIC_NAMES.has(String(infra.block(alarm).body.metric_name)));
    assert.equal(infra.value(alarm, 'namespace'), METRICS_NAMESPACE);
  });

  it('every alarm in the MarketFlow namespace names a known metric', () => {
    for (const module of [infra.root, infra.stageContext.module]) {
      for (const block of module.blocks.filter((b) => b.type === 'aws_cloudwatch_metric_alarm')) {
        const namespace = String(block.body.namespace);
        if (namespace === '${local.metrics_namespace}' || namespace === METRICS_NAMESPACE) {
          assert.ok(METRIC_NAMES.has(String(block.body.metric_name)), block.address);
        }
      }
    }
  });
});
