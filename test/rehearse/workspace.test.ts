import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prepareWorkspace } from '../../scripts/rehearse/workspace.ts';
import { STAGES } from '../../src/domain/event-types.ts';
import { REPOSITORY_ROOT } from '../infra/infra-config.ts';
import { blocksOfKind, findBlock, loadModule } from '../infra/validator/parse.ts';

describe('the rehearsal workspace: a copy of infra/ adapted to provider 5.100, moto and no archive provider', () => {
  let dir: string;
  let bundlesDir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'marketflow-workspace-'));
    bundlesDir = join(dir, 'dist');
    for (const stage of STAGES) {
      await mkdir(join(bundlesDir, stage), { recursive: true });
      await writeFile(join(bundlesDir, stage, 'index.cjs'), `exports.stage = '${stage}';`);
      await writeFile(join(bundlesDir, stage, 'index.cjs.map'), '{}');
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('leaves no archive provider, overrides the provider, runtime, targets and schema registry, zips each bundle', async () => {
    const work = join(dir, 'ok');
    const { infraDir, cliConfigFile } = await prepareWorkspace({
      repositoryRoot: REPOSITORY_ROOT,
      dir: work,
      pluginMirror: '/mirror',
      bundlesDir,
    });
    const root = await loadModule(infraDir);
    const stage = root.children.get('stage');
    assert.ok(stage);
    for (const module of [root, stage]) {
      assert.equal(blocksOfKind(module, 'data', 'archive_file').length, 0);
      assert.doesNotMatch(module.files.map((file) => file.source).join('\n'), /hashicorp\/archive/);
    }
    const override = await readFile(join(infraDir, 'modules', 'stage', 'rehearsal_override.tf'), 'utf8');
    assert.match(override, /runtime\s+= "nodejs22\.x"/);
    // moto's own event source mapping would take the queued records in flight; the rehearsal plays it.
    assert.match(override, /resource "aws_lambda_event_source_mapping" "delivery" \{\s+enabled = false\s+\}/);
    assert.match(
      override,
      /arn = local\.queued \? aws_sqs_queue\.delivery\[0\]\.arn : aws_sqs_queue\.rehearsal_tap\.arn/,
    );
    assert.ok(findBlock(root, 'aws_schemas_registry.market_data'));
    // Provider 5.100 has no log_config on the bus; moto refuses EventBridge log delivery sources.
    const bus = findBlock(root, 'aws_cloudwatch_event_bus.market_data');
    assert.ok(bus && !('log_config' in bus.body), 'log_config removed');
    assert.match(await readFile(join(REPOSITORY_ROOT, 'infra', 'eventbridge.tf'), 'utf8'), /log_config \{/);
    const rootOverride = await readFile(join(infraDir, 'rehearsal_override.tf'), 'utf8');
    assert.match(
      rootOverride,
      /resource "aws_cloudwatch_log_delivery_source" "bus" \{\s+for_each = toset\(\[\]\)/,
    );
    for (const name of ['bus_errors', 'bus_info', 'bus_trace'])
      assert.match(
        rootOverride,
        new RegExp(`resource "aws_cloudwatch_log_delivery" "${name}" \\{\\s+count = 0`),
      );
    assert.match(await readFile(join(infraDir, 'rehearsal_override.tf'), 'utf8'), /backend "local" \{\}/);
    assert.match(await readFile(cliConfigFile, 'utf8'), /filesystem_mirror \{\n\s+path = "\/mirror"/);
    for (const name of STAGES) {
      const archive = await readFile(join(infraDir, 'build', `lambda-${name}.zip`));
      assert.equal(archive.readUInt32LE(0), 0x04034b50, `${name} zip`);
    }
    // The real infra/ keeps what users apply with provider 6.
    assert.match(await readFile(join(REPOSITORY_ROOT, 'infra', 'versions.tf'), 'utf8'), /hashicorp\/archive/);
  });

  it('stops with a clear error when infra/ no longer has what an adaptation removes', async () => {
    const fake = join(dir, 'changed');
    await cp(join(REPOSITORY_ROOT, 'infra'), join(fake, 'infra'), { recursive: true });
    await cp(join(REPOSITORY_ROOT, 'schemas'), join(fake, 'schemas'), { recursive: true });
    const versions = join(fake, 'infra', 'versions.tf');
    await writeFile(versions, (await readFile(versions, 'utf8')).replace(/archive = \{[^}]*\}/, ''));
    await assert.rejects(
      prepareWorkspace({
        repositoryRoot: fake,
        dir: join(dir, 'changed-work'),
        pluginMirror: '/mirror',
        bundlesDir,
      }),
      /the archive provider requirement not found in .*versions\.tf; infra\/ changed/,
    );
  });
});
