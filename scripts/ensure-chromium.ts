/**
 * `npm test`'s pretest step: the dashboard's browser tests drive Debian's Chromium through
 * playwright-core (playwright's own browser download is not used). When it is missing, a root shell
 * with apt-get installs it; anywhere else this stops before the tests with the one command that does.
 *
 *   node scripts/ensure-chromium.ts
 */

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser; the browser tests launch exactly this. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const INSTALL_COMMAND = 'sudo apt-get install -y chromium';

export interface ChromiumHost {
  exists(path: string): boolean;
  isRoot: boolean;
  hasAptGet: boolean;
  /** Runs a command with inherited stdio; throws when it exits non-zero. */
  run(command: string, args: string[]): void;
}

const thisHost: ChromiumHost = {
  exists: existsSync,
  isRoot: process.getuid?.() === 0,
  hasAptGet: existsSync('/usr/bin/apt-get'),
  run: (command, args) => {
    execFileSync(command, args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  },
};

/** Makes sure Chromium is at CHROMIUM_PATH, installing it when this host can; throws saying how otherwise. */
export function ensureChromium(host: ChromiumHost = thisHost): 'present' | 'installed' {
  if (host.exists(CHROMIUM_PATH)) return 'present';
  if (!host.isRoot || !host.hasAptGet) {
    throw new Error(
      `the dashboard's browser tests need Chromium at ${CHROMIUM_PATH} and this shell cannot install it ` +
        `(${host.hasAptGet ? 'not root' : 'no apt-get'}); install it with: ${INSTALL_COMMAND}`,
    );
  }
  try {
    host.run('apt-get', ['update', '-qq']);
    host.run('apt-get', ['install', '-y', '-qq', 'chromium']);
  } catch (error) {
    throw new Error(`installing Chromium failed; install it with: ${INSTALL_COMMAND}`, { cause: error });
  }
  if (!host.exists(CHROMIUM_PATH)) {
    throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is still missing`);
  }
  return 'installed';
}

/**
 * Headless Debian Chromium for the browser tests and the screenshot script, or an error saying how to
 * install it. The flags keep it off the network this machine does not have.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM_PATH}: install it with '${INSTALL_COMMAND}' (npm test's pretest does as root)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    if (ensureChromium() === 'installed') console.log(`installed Chromium at ${CHROMIUM_PATH}`);
  } catch (error) {
    console.error(`npm test: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
