/**
 * `npm run rehearse`: the deploy rehearsal. The real Terraform CLI plans, applies and destroys a copy
 * of infra/ on moto (an AWS emulator on loopback); in between, the deployed stack is read back through
 * its outputs, the built bundles run on it with their deployed environment and their role's
 * credentials, and every call they make is checked against their role's policy. Writes
 * `.rehearsal/report.json`; exits non-zero when any step or check fails. See docs/infra.md.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeliveryMode } from '../../src/config/delivery-mode.ts';
import { STAGES } from '../../src/domain/event-types.ts';
import { blocksOfKind, loadModule } from '../../test/infra/validator/parse.ts';
import { buildLambdas } from '../build-lambdas.ts';
import { findExecutable, INSTALL_MESSAGE } from '../terraform.ts';
import { type AwsClients, awsClients } from './aws-clients.ts';
import { Checklist } from './checklist.ts';
import { checkDeployedStack, type DeployedStack } from './integration-checks.ts';
import { checkLeastPrivilege } from './least-privilege.ts';
import { leftovers } from './leftovers.ts';
import { type Moto, startMoto } from './moto.ts';
import { runPipeline } from './pipeline.ts';
import type { PipelineInput, PipelineRun } from './pipeline-run.ts';
import { checkQueuedDelivery } from './queued-checks.ts';
import { runQueuedPipeline } from './queued-pipeline.ts';
import { emptyReport, type Report, summary, timed, writeReport } from './report.ts';
import {
  knownOmissionOf,
  managedResources,
  type Outputs,
  type PlannedChange,
  plannedChanges,
  resourcesOfType,
  type ShowState,
  unexplainedChanges,
} from './state.ts';
import { terraformRunner } from './terraform-runner.ts';
import { checkWakeUps, REHEARSAL_LATENESS_BOUND_SECONDS } from './wake-ups.ts';
import {
  prepareWorkspace,
  REHEARSAL_PROVIDER_VERSION,
  REHEARSAL_RUNTIME,
  UNDEPLOYED_OUTPUTS,
} from './workspace.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REPORT_DIR = join(ROOT, '.rehearsal');
const REPORT_FILE = join(REPORT_DIR, 'report.json');
const REGION = 'us-east-1';
/** The filesystem mirror holding the AWS provider (this machine kind ships it there). */
const PLUGIN_MIRROR = process.env.MARKETFLOW_TF_PLUGIN_MIRROR ?? '/opt/tf-plugins';

function requireTools(): string {
  const terraform = findExecutable('terraform', process.env.PATH);
  if (!terraform) throw new Error(INSTALL_MESSAGE);
  const provider = join(
    PLUGIN_MIRROR,
    'registry.terraform.io',
    'hashicorp',
    'aws',
    REHEARSAL_PROVIDER_VERSION,
  );
  if (!existsSync(provider)) {
    throw new Error(
      `The AWS provider ${REHEARSAL_PROVIDER_VERSION} is not in the filesystem mirror ${PLUGIN_MIRROR} (set MARKETFLOW_TF_PLUGIN_MIRROR to the mirror's root).`,
    );
  }
  return terraform;
}

type Terraform = ReturnType<typeof terraformRunner>;
/** A small lateness bound, so that the first event of a series, which waits it out, is soon released. */
const DIRECT = ['-var', `lateness_bound_seconds=${REHEARSAL_LATENESS_BOUND_SECONDS}`];
const QUEUED = [...DIRECT, '-var', 'delivery_mode=queued'];

/** A plan right after an apply: it must change nothing but what moto leaves out of its answers. */
async function secondPlan(tf: Terraform, vars: string[]): Promise<Report['secondPlan']> {
  const { code } = await tf.run(
    ['plan', '-input=false', '-detailed-exitcode', ...vars, '-out=second.tfplan'],
    [0, 2],
  );
  const changes = code === 0 ? [] : plannedChanges(await tf.json(['show', '-json', 'second.tfplan']));
  const unexplained = unexplainedChanges(changes);
  const result = {
    knownOmissions: changes
      .filter((change) => !unexplained.includes(change))
      .map(
        (change) => `${change.address}: ${change.attributes.join(', ')} (${knownOmissionOf(change)?.why})`,
      ),
    unexplained: unexplained.map(
      (change) => `${change.address} ${change.actions.join('/')}: ${change.attributes.join(', ')}`,
    ),
  };
  assert.deepEqual(result.unexplained, [], 'the second plan changes more than moto explains');
  return result;
}

/**
 * What switching a deployed stack from direct to queued delivery may change (queued.tf): per stage,
 * the delivery queue, its policy and the event source mapping created, the rule's invoke permission
 * removed, the target and the role's policy updated; the functions' changes are moto's omissions.
 */
function unexpectedSwitchChanges(changes: readonly PlannedChange[]): string[] {
  const expected: [string, RegExp, string[] | undefined][] = [
    ['create', /^module\.stage\["[a-z]+"\]\.aws_sqs_queue\.delivery\[0\]$/, undefined],
    ['create', /^module\.stage\["[a-z]+"\]\.aws_sqs_queue_policy\.delivery\[0\]$/, undefined],
    ['create', /^module\.stage\["[a-z]+"\]\.aws_lambda_event_source_mapping\.delivery\[0\]$/, undefined],
    ['delete', /^module\.stage\["[a-z]+"\]\.aws_lambda_permission\.events\[0\]$/, undefined],
    ['update', /^module\.stage\["[a-z]+"\]\.aws_cloudwatch_event_target\.this$/, ['arn']],
    ['update', /^module\.stage\["[a-z]+"\]\.aws_iam_role_policy\.this$/, ['policy']],
  ];
  const explained = (change: PlannedChange) =>
    expected.some(
      ([action, address, attributes]) =>
        change.actions.join() === action &&
        address.test(change.address) &&
        (attributes === undefined || change.attributes.every((name) => attributes.includes(name))),
    );
  const unexplained = unexplainedChanges(changes.filter((change) => !explained(change)));
  const missing = expected.flatMap(([action, address]) =>
    changes.filter((change) => address.test(change.address) && change.actions.join() === action).length ===
    STAGES.length
      ? []
      : [`expected ${STAGES.length} × ${action} ${address.source}`],
  );
  return [
    ...unexplained.map(
      (change) => `${change.address} ${change.actions.join('/')}: ${change.attributes.join(', ')}`,
    ),
    ...missing,
  ];
}

/** Built bundles, moto started, infra/ copied and adapted, Terraform ready to run on the copy. */
async function prepare(report: Report, work: string, onMoto: (moto: Moto) => void) {
  const terraform = requireTools();
  const bundlesDir = join(work, 'dist');
  const bundles = await timed(report, 'build bundles', () => buildLambdas(bundlesDir));
  const moto = await timed(report, 'start moto', () => startMoto(work));
  onMoto(moto);
  const workspace = await timed(report, 'copy and adapt infra/', () =>
    prepareWorkspace({ repositoryRoot: ROOT, dir: work, pluginMirror: PLUGIN_MIRROR, bundlesDir }),
  );
  const logFile = join(REPORT_DIR, 'terraform.log');
  await mkdir(REPORT_DIR, { recursive: true });
  await writeFile(logFile, '');
  const runnerOptions = {
    executable: terraform,
    cliConfigFile: workspace.cliConfigFile,
    endpoint: moto.endpoint,
    region: REGION,
    logFile,
  };
  // The real infra/, untouched: the formatting users commit.
  await timed(report, 'terraform fmt -check', () =>
    terraformRunner({ ...runnerOptions, cwd: ROOT }).run(['fmt', '-check', '-recursive', '-diff', 'infra']),
  );
  return { bundles, moto, tf: terraformRunner({ ...runnerOptions, cwd: workspace.infraDir }) };
}

/** init, validate, plan and apply in direct mode, then a second plan that must change nothing. */
async function deployDirect(report: Report, tf: Terraform): Promise<ShowState> {
  await timed(report, 'terraform init', () => tf.run(['init', '-input=false']));
  await timed(report, 'terraform validate', () => tf.run(['validate']));
  await timed(report, 'terraform plan', async () => {
    await tf.run(['plan', '-input=false', ...DIRECT, '-out=apply.tfplan']);
    const changes = plannedChanges(await tf.json(['show', '-json', 'apply.tfplan']));
    report.resources.planned = changes.filter((change) => change.actions.includes('create')).length;
  });
  await timed(report, 'terraform apply', async () => {
    await tf.run(['apply', '-input=false', 'apply.tfplan']);
  });
  const state = await tf.json<ShowState>(['show', '-json']);
  report.resources.applied = managedResources(state).length;
  await timed(report, 'second plan', async () => {
    report.secondPlan = await secondPlan(tf, DIRECT);
  });
  return state;
}

/** The same stack switched to queued delivery: an in-place apply of what queued.tf adds. */
async function switchToQueued(report: Report, tf: Terraform, list: Checklist): Promise<ShowState> {
  await timed(report, 'apply queued mode', async () => {
    // The second plan has just refreshed the state; refreshing again would only cost time.
    await tf.run(['plan', '-input=false', '-refresh=false', ...QUEUED, '-out=queued.tfplan']);
    const changes = plannedChanges(await tf.json(['show', '-json', 'queued.tfplan']));
    report.queued.switchChanges = changes.map(
      (change) =>
        `${change.address} ${change.actions.join('/')}${change.actions.join() === 'update' ? `: ${change.attributes.join(', ')}` : ''}`,
    );
    await list.check('queued: switching changes only what queued.tf adds (and moto omits)', () => {
      assert.deepEqual(unexpectedSwitchChanges(changes), []);
      return `${changes.length} changes`;
    });
    await tf.run(['apply', '-input=false', 'queued.tfplan']);
  });
  await timed(report, 'second plan (queued)', async () => {
    report.queued.secondPlan = await secondPlan(tf, QUEUED);
  });
  const queuedState = await tf.json<ShowState>(['show', '-json']);
  report.queued.applied = managedResources(queuedState).length;
  return queuedState;
}

/** What one delivery mode is rehearsed with; `label` names its steps in the report. */
interface ModeRun {
  mode: DeliveryMode;
  label: { checks: string; pipeline: string; privilege: string };
  checkDelivery: (list: Checklist, stack: DeployedStack) => Promise<void>;
  pipeline: (list: Checklist, input: PipelineInput) => Promise<PipelineRun>;
}

const MODES: Record<DeliveryMode, ModeRun> = {
  direct: {
    mode: 'direct',
    label: {
      checks: 'integration checks',
      pipeline: 'pipeline on the deployed stack',
      privilege: 'least privilege',
    },
    checkDelivery: checkDeployedStack,
    pipeline: runPipeline,
  },
  queued: {
    mode: 'queued',
    label: {
      checks: 'integration checks (queued)',
      pipeline: 'pipeline (queued)',
      privilege: 'least privilege (queued)',
    },
    checkDelivery: checkQueuedDelivery,
    pipeline: runQueuedPipeline,
  },
};

/** The deployed stack in one mode: its integration checks, the pipeline on it, then least privilege. */
async function rehearseMode(
  report: Report,
  list: Checklist,
  mode: ModeRun,
  input: PipelineInput & { declaredOutputs: string[] },
): Promise<void> {
  const { clients, outputs, state, region } = input;
  const stack = {
    clients,
    outputs,
    state,
    infraDir: join(ROOT, 'infra'),
    declaredOutputs: input.declaredOutputs,
  };
  await timed(report, mode.label.checks, async () => {
    await mode.checkDelivery(list, stack);
    await checkWakeUps(list, stack, mode.mode);
  });
  const run = await timed(report, mode.label.pipeline, () => mode.pipeline(list, input));
  await timed(report, mode.label.privilege, () =>
    checkLeastPrivilege(list, report, { clients, outputs, run, region, mode: mode.mode }),
  );
}

/** Destroys the stack and checks that neither the state nor moto keeps anything. */
async function destroy(
  report: Report,
  tf: Terraform,
  list: Checklist,
  created: ShowState,
  clients: AwsClients,
) {
  await timed(report, 'terraform destroy', async () => {
    const { stdout } = await tf.run(['destroy', '-auto-approve', '-input=false', ...QUEUED]);
    const destroyed = /Resources: (\d+) destroyed/.exec(stdout);
    report.resources.destroyed = destroyed ? Number(destroyed[1]) : undefined;
  });
  await timed(report, 'nothing left', async () => {
    const { stdout } = await tf.run(['state', 'list']);
    const inState = stdout.split('\n').filter(Boolean);
    report.resources.leftInState = inState.length;
    await list.check('destroy: nothing left in the state', () => {
      assert.deepEqual(inState, []);
      return undefined;
    });
    await list.check('destroy: nothing left in moto', async () => {
      const createdKeys = resourcesOfType(created, 'aws_kms_key').map((key) => String(key.values.key_id));
      assert.deepEqual(await leftovers(clients, createdKeys), {});
      return undefined;
    });
    report.checks = list.results;
  });
}

async function rehearse(report: Report, work: string, onMoto: (moto: Moto) => void): Promise<void> {
  const { bundles, moto, tf } = await prepare(report, work, onMoto);
  const state = await deployDirect(report, tf);
  const outputs = await tf.json<Outputs>(['output', '-json']);
  const clients = awsClients(moto.endpoint, REGION);
  const list = new Checklist();
  const declaredOutputs = blocksOfKind(await loadModule(join(ROOT, 'infra')), 'output').map(
    (block) => block.name,
  );
  const input = { clients, outputs, moto, bundles, repositoryRoot: ROOT, region: REGION, declaredOutputs };
  try {
    await rehearseMode(report, list, MODES.direct, { ...input, state });
    const queuedState = await switchToQueued(report, tf, list);
    await rehearseMode(report, list, MODES.queued, { ...input, state: queuedState });
  } finally {
    report.checks = list.results;
  }
  await destroy(report, tf, list, state, clients);
  if (list.failures.length > 0) throw new Error(`${list.failures.length} check(s) failed`);
}

async function main(): Promise<number> {
  const started = performance.now();
  const report = emptyReport({
    provider: REHEARSAL_PROVIDER_VERSION,
    runtime: REHEARSAL_RUNTIME,
    undeployed: UNDEPLOYED_OUTPUTS,
  });
  const work = await mkdtemp(join(tmpdir(), 'marketflow-rehearsal-'));
  let moto: Moto | undefined;
  const cleanUp = async () => {
    await moto?.stop();
    await rm(work, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`rehearsal: ${signal}, stopping moto (pid ${moto?.pid ?? '-'})`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failure: unknown;
  try {
    await rehearse(report, work, (started) => {
      moto = started;
    });
    report.ok = true;
  } catch (error) {
    failure = error;
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  report.totalMs = Math.round(performance.now() - started);
  await writeReport(REPORT_FILE, report);
  console.log(summary(report, REPORT_FILE));
  if (failure) {
    console.error(`rehearsal failed: ${failure instanceof Error ? failure.message : String(failure)}`);
    return 1;
  }
  return 0;
}

process.exitCode = await main();
