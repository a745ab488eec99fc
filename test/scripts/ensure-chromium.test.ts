import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CHROMIUM_PATH,
  type ChromiumHost,
  ensureChromium,
  INSTALL_COMMAND,
} from '../../scripts/ensure-chromium.ts';

function host(overrides: Partial<ChromiumHost> & { installs?: boolean }): ChromiumHost & { ran: string[] } {
  let installed = false;
  const ran: string[] = [];
  return {
    exists: (path) => path === CHROMIUM_PATH && installed,
    isRoot: true,
    hasAptGet: true,
    run: (command, args) => {
      ran.push([command, ...args].join(' '));
      if (args[0] === 'install' && overrides.installs !== false) installed = true;
    },
    ...overrides,
    ran,
  };
}

test('Chromium already there: nothing is run', () => {
  const h = host({ exists: () => true });
  assert.equal(ensureChromium(h), 'present');
  assert.deepEqual(h.ran, []);
});

test('missing, as root with apt-get: installs Debian chromium', () => {
  const h = host({});
  assert.equal(ensureChromium(h), 'installed');
  assert.deepEqual(h.ran, ['apt-get update -qq', 'apt-get install -y -qq chromium']);
});

test('missing and not root: fails with the one command that installs it, running nothing', () => {
  const h = host({ isRoot: false });
  assert.throws(
    () => ensureChromium(h),
    (error: Error) => error.message.endsWith(INSTALL_COMMAND),
  );
  assert.deepEqual(h.ran, []);
});

test('a failed apt-get keeps its cause and says how to install', () => {
  const failure = new Error('apt-get exited 100');
  const h = host({
    run: () => {
      throw failure;
    },
  });
  assert.throws(
    () => ensureChromium(h),
    (error: Error) => error.cause === failure && error.message.includes(INSTALL_COMMAND),
  );
});

test('apt-get succeeds but the browser is not where the tests launch it: fails naming the path', () => {
  assert.throws(() => ensureChromium(host({ installs: false })), new RegExp(CHROMIUM_PATH));
});
