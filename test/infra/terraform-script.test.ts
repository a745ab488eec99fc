import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { BACKEND_MESSAGE, findExecutable, plan, splitArguments } from '../../scripts/terraform.ts';
import { REPOSITORY_ROOT } from './infra-config.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'marketflow-terraform-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('scripts/terraform.ts', () => {
  it('sends backend options to init and everything else to apply', () => {
    const split = splitArguments([
      '-var',
      'notification_email=ops@example.com',
      '-backend-config=backend.hcl',
      '-backend-config',
      'key=marketflow/prod.tfstate',
      '-auto-approve',
      '-reconfigure',
    ]);
    assert.deepEqual(split.init, [
      '-backend-config=backend.hcl',
      '-backend-config=key=marketflow/prod.tfstate',
      '-reconfigure',
    ]);
    assert.deepEqual(split.command, ['-var', 'notification_email=ops@example.com', '-auto-approve']);
  });

  it('builds the bundles, then runs init and apply in infra/', () => {
    const commands = plan(
      'deploy',
      ['-backend-config=bucket=state', '-var', 'environment=prod'],
      '/bin/terraform',
    );
    assert.deepEqual(
      commands.map((command) => [path.basename(command.executable), command.args.at(0)]),
      [
        [path.basename(process.execPath), path.join(REPOSITORY_ROOT, 'scripts', 'build-lambdas.ts')],
        ['terraform', 'init'],
        ['terraform', 'apply'],
      ],
    );
    assert.deepEqual(commands[1]?.args, ['init', '-input=false', '-backend-config=bucket=state']);
    assert.deepEqual(commands[2]?.args, ['apply', '-var', 'environment=prod']);
    assert.equal(commands[2]?.cwd, path.join(REPOSITORY_ROOT, 'infra'));
  });

  it('runs destroy the same way', () => {
    const commands = plan('destroy', ['-backend-config=bucket=state', '-auto-approve'], '/bin/terraform');
    assert.deepEqual(commands[2]?.args, ['destroy', '-auto-approve']);
  });

  it('uses infra/backend.hcl when no backend option is given, and stops when there is none', () => {
    const infraDir = path.join(scratch, 'infra');
    mkdirSync(infraDir, { recursive: true });
    assert.throws(() => plan('deploy', [], '/bin/terraform', infraDir), { message: BACKEND_MESSAGE });
    writeFileSync(path.join(infraDir, 'backend.hcl'), 'bucket = "state"\n');
    assert.deepEqual(plan('deploy', [], '/bin/terraform', infraDir)[1]?.args, [
      'init',
      '-input=false',
      '-backend-config=backend.hcl',
    ]);
  });

  it('finds an executable on PATH', () => {
    const bin = path.join(scratch, 'bin');
    mkdirSync(bin, { recursive: true });
    const fake = path.join(bin, 'terraform');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    assert.equal(findExecutable('terraform', ['/nonexistent', bin].join(path.delimiter)), fake);
    assert.equal(findExecutable('terraform', '/nonexistent'), undefined);
  });

  for (const action of ['deploy', 'destroy']) {
    it(`${action} without a terraform binary stops and says what to install`, () => {
      const result = spawnSync(
        process.execPath,
        [path.join(REPOSITORY_ROOT, 'scripts/terraform.ts'), action],
        {
          env: { PATH: path.join(scratch, 'empty') },
          encoding: 'utf8',
        },
      );
      assert.equal(result.status, 1);
      assert.match(result.stderr, /terraform was not found on PATH/);
      assert.match(
        result.stderr,
        /Install Terraform 1\.5 or later \(https:\/\/developer\.hashicorp\.com\/terraform\/install/,
      );
      assert.equal(result.stdout, '', 'nothing was built or run');
    });
  }
});
