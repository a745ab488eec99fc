/**
 * Regenerates the README's picture of the dashboard from a real run with the default configuration
 * (the alert rules of infra/config/alert-rules.json): an in-memory stack replays the bundled real bars
 * (`npm start`'s data) through PutEvents, then Debian's Chromium photographs the page.
 *
 *   node scripts/dashboard-screenshot.ts [--events N]   (default: both files in full, 20,160 events)
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EmbeddedBackend } from '../src/cli/backends/embedded.ts';
import { BUNDLED_DATA } from '../src/cli/commands/start.ts';
import { replayFiles } from '../src/cli/replayer.ts';
import { attachDashboard } from '../src/local/dashboard/attach.ts';
import { startLocalStack } from '../src/local/runtime/stack.ts';
import { ensureChromium, launchChromium } from './ensure-chromium.ts';

const OUTPUT = fileURLToPath(new URL('../docs/images/dashboard.png', import.meta.url));
const VIEWPORT = { width: 1440, height: 1100 };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string' } } });
  ensureChromium();
  const dataDir = await mkdtemp(join(tmpdir(), 'marketflow-screenshot-'));
  const stack = await startLocalStack({ inMemory: true, dataDir, logLevel: 'silent' });
  const dashboard = await attachDashboard(stack);
  const backend = new EmbeddedBackend(stack, { ownsStack: false });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(dashboard.url);
    const limit = values.events === undefined ? Number.POSITIVE_INFINITY : Number(values.events);
    const controller = new AbortController();
    const report = await replayFiles({
      files: BUNDLED_DATA,
      speed: 'max',
      put: (entries) => backend.putEvents(entries),
      eventBusName: backend.eventBusName,
      signal: controller.signal,
      onProgress: (progress) => {
        if (progress.sent >= limit) controller.abort();
      },
    });
    await stack.bus.idle();
    console.log(`replayed ${report.sent.length} events`);
    // As an operator opening the page after the replay sees it: the chart loads the stored history.
    await page.waitForTimeout(1_500);
    await page.reload();
    await page.locator('#connection.live').waitFor();
    await page.waitForFunction(() =>
      /bars loaded/.test(document.querySelector('#chart-status')?.textContent ?? ''),
    );
    await page.waitForTimeout(1_500);
    await page.screenshot({ path: OUTPUT, clip: { x: 0, y: 0, ...VIEWPORT, height: 1250 } });
    console.log(`wrote ${OUTPUT}`);
  } finally {
    await browser.close();
    await dashboard.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
