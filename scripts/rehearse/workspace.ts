/**
 * The rehearsal's copy of `infra/`: the real configuration in a temporary directory, adapted there to
 * what this machine has (AWS provider 5.100.0 from a filesystem mirror, moto, no archive provider). The
 * real `infra/` stays what users apply with provider 6. Each adaptation says why.
 */
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STAGES } from '../../src/domain/event-types.ts';
import { zip } from './zip.ts';

/** The provider the machine's filesystem mirror holds (infra/ itself asks for `~> 6.0, >= 6.19`). */
export const REHEARSAL_PROVIDER_VERSION = '5.100.0';
/** Provider 5.100 rejects `nodejs24.x`; the newest Node runtime it knows. */
export const REHEARSAL_RUNTIME = 'nodejs22.x';

/**
 * Outputs the rehearsal cannot deploy, with the reason. moto has no EventBridge Schemas API (every
 * call answers HTTP 500), so the registry and the schema are overridden to `count = 0`.
 */
export const UNDEPLOYED_OUTPUTS: Record<string, string> = {
  eventbridge_schema_registry_name: 'moto has no EventBridge Schemas API',
  eventbridge_schema_name: 'moto has no EventBridge Schemas API',
};

/** infra/bus-logs.tf's deliveries, one per log type; moto deploys none of them (no EventBridge source). */
export const BUS_LOG_DELIVERIES = ['bus_errors', 'bus_info', 'bus_trace'] as const;

/** Rehearsal-only outputs added by the adaptations (not part of infra/). */
export const TAP_OUTPUTS = { stages: 'rehearsal_tap_urls', alerts: 'rehearsal_alerts_tap_url' } as const;

export interface Workspace {
  /** The adapted copy of infra/, where terraform runs. */
  infraDir: string;
  cliConfigFile: string;
}

const versionsOverride = (withBackend: boolean) => `terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "${REHEARSAL_PROVIDER_VERSION}"
    }
  }
${withBackend ? '\n  backend "local" {}\n' : ''}}
`;

const ROOT_OVERRIDE = `${versionsOverride(true)}
# Fail fast: with the default retries an unsupported moto API keeps apply waiting for minutes.
provider "aws" {
  max_retries             = 1
  skip_metadata_api_check = true
}

# moto has no EventBridge Schemas API.
resource "aws_schemas_registry" "market_data" {
  count = 0
}

resource "aws_schemas_schema" "market_data_raw" {
  count         = 0
  registry_name = "registry-\${var.project}-\${var.environment}"
}

# moto refuses a log delivery source for EventBridge ("Cannot access provided service"): the bus's log
# group, its resource policy and the delivery destination are deployed, its sources and deliveries not.
resource "aws_cloudwatch_log_delivery_source" "bus" {
  for_each = toset([])
}

# moto would run its own mapping of the wake-up queue on each SendMessage (in Docker, absent here): the
# rehearsal plays it (scripts/rehearse/wake-ups.ts), so moto's is created disabled.
resource "aws_lambda_event_source_mapping" "wake_ups" {
  enabled = false
}

${BUS_LOG_DELIVERIES.map((name) => `resource "aws_cloudwatch_log_delivery" "${name}" {\n  count = 0\n}\n`).join('\n')}
${Object.keys(UNDEPLOYED_OUTPUTS)
  .map((name) => `output "${name}" {\n  value = null\n}\n`)
  .join('\n')}`;

const STAGE_OVERRIDE = `${versionsOverride(false)}
# A zip made by the rehearsal replaces data.archive_file (the archive provider is not installable here).
resource "aws_lambda_function" "this" {
  runtime          = "${REHEARSAL_RUNTIME}"
  filename         = var.archive_path
  source_code_hash = filebase64sha256(var.archive_path)
}

# moto cannot deliver to a Lambda target (PutEvents answers HTTP 500): in direct mode the rule delivers
# to a tap queue instead, with the target's own retry policy and dead-letter queue; the rehearsal hands
# what arrives there to the next stage's bundle. Queued mode keeps its real target, the delivery queue.
resource "aws_cloudwatch_event_target" "this" {
  arn = local.queued ? aws_sqs_queue.delivery[0].arn : aws_sqs_queue.rehearsal_tap.arn
}

# moto's own event source mapping, on each SendMessage, receives a batch and tries to run the function
# (in Docker, absent here): the records stay in flight for the visibility timeout. The rehearsal plays
# the mapping itself (scripts/rehearse/sqs-batches.ts), so moto's is created disabled.
resource "aws_lambda_event_source_mapping" "delivery" {
  enabled = false
}
`;

const STAGE_TAP = `resource "aws_sqs_queue" "rehearsal_tap" {
  name = "sqs-\${var.stage}-tap-\${var.environment}"
}

output "rehearsal_tap_url" {
  value = aws_sqs_queue.rehearsal_tap.url
}
`;

const ROOT_TAPS = `# Rehearsal only: an SQS subscription shows what reaches the alert topic.
resource "aws_sqs_queue" "rehearsal_alerts" {
  name = "sqs-alerts-tap-\${var.environment}"
}

resource "aws_sns_topic_subscription" "rehearsal_alerts" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.rehearsal_alerts.arn
}

output "${TAP_OUTPUTS.stages}" {
  value = { for stage in local.stages : stage => module.stage[stage].rehearsal_tap_url }
}

output "${TAP_OUTPUTS.alerts}" {
  value = aws_sqs_queue.rehearsal_alerts.url
}
`;

/** Text edits no override can make (an override cannot remove a block or a provider requirement). */
async function removeFromFile(file: string, what: string, pattern: RegExp): Promise<void> {
  const text = await readFile(file, 'utf8');
  const edited = text.replace(pattern, '');
  if (edited === text) {
    throw new Error(
      `rehearsal adaptation: ${what} not found in ${file}; infra/ changed, update scripts/rehearse/workspace.ts`,
    );
  }
  await writeFile(file, edited);
}

const ARCHIVE_REQUIREMENT = /\n[ \t]*archive = \{[^}]*\}/;
/** The bus's log_config block (provider 6.6+; 5.100 does not know it). */
const BUS_LOG_CONFIG = /\n\n?[ \t]*# [^\n]*\n[ \t]*log_config \{[^}]*\}/;

/**
 * Copies infra/ (and schemas/, which infra/ reads with file()) to `dir`, adapts the copy, zips each
 * built bundle where the stage module's `archive_path` points, and writes the Terraform CLI config
 * that installs the provider from the filesystem mirror.
 */
export async function prepareWorkspace(options: {
  repositoryRoot: string;
  dir: string;
  pluginMirror: string;
  bundlesDir: string;
}): Promise<Workspace> {
  const { repositoryRoot, dir, pluginMirror, bundlesDir } = options;
  const infraDir = join(dir, 'infra');
  await cp(join(repositoryRoot, 'infra'), infraDir, {
    recursive: true,
    // A user's local init or state must not leak into the rehearsal.
    filter: (source) =>
      !/[/\\](\.terraform|build)$|\.tfstate|\.terraform\.lock\.hcl$|backend\.hcl$/.test(source),
  });
  await cp(join(repositoryRoot, 'schemas'), join(dir, 'schemas'), { recursive: true });

  const stageDir = join(infraDir, 'modules', 'stage');
  await removeFromFile(
    join(infraDir, 'versions.tf'),
    'the archive provider requirement',
    ARCHIVE_REQUIREMENT,
  );
  await removeFromFile(
    join(stageDir, 'versions.tf'),
    'the archive provider requirement',
    ARCHIVE_REQUIREMENT,
  );
  await removeFromFile(
    join(stageDir, 'function.tf'),
    'data "archive_file" "bundle"',
    /data "archive_file" "bundle" \{[^}]*\}\n/,
  );
  await removeFromFile(join(infraDir, 'eventbridge.tf'), "the bus's log_config block", BUS_LOG_CONFIG);
  await writeFile(join(infraDir, 'rehearsal_override.tf'), ROOT_OVERRIDE);
  await writeFile(join(infraDir, 'rehearsal_taps.tf'), ROOT_TAPS);
  await writeFile(join(stageDir, 'rehearsal_override.tf'), STAGE_OVERRIDE);
  await writeFile(join(stageDir, 'rehearsal_tap.tf'), STAGE_TAP);

  // infra/stages.tf: archive_path = "${path.module}/build/lambda-<stage>.zip".
  await mkdir(join(infraDir, 'build'), { recursive: true });
  for (const stage of STAGES) {
    const bundle = join(bundlesDir, stage);
    // The whole folder, as archive_file's source_dir: the handler file and each tracing path's bundle.
    const entries = await Promise.all(
      (await readdir(bundle)).sort().map(async (name) => ({
        name,
        data: await readFile(join(bundle, name)),
      })),
    );
    await writeFile(join(infraDir, 'build', `lambda-${stage}.zip`), zip(entries));
  }

  const cliConfigFile = join(dir, 'terraformrc');
  await writeFile(
    cliConfigFile,
    `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(pluginMirror)}\n  }\n}\n`,
  );
  return { infraDir, cliConfigFile };
}
