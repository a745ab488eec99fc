/**
 * The dashboard on a persisted data directory: it opens on the busiest symbol, counts every alert ever
 * sent (not the newest hundred), and shows the alerts again after the stack restarts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../scripts/ensure-chromium.ts';
import { attachDashboard } from '../../src/local/dashboard/attach.ts';
import type { DashboardServer } from '../../src/local/dashboard/server.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import { putAll, rawEntries } from './market-replay.ts';

/** More than the page's first fetch of recent alerts (100): one alert per BTC bar. */
const BTC_BARS = 134;
const ALERT_RULES = {
  rules: [
    {
      id: 'btc-above-1',
      kind: 'price_above',
      severity: 'LOW',
      symbols: ['BTC-USDT'],
      threshold: 1,
      trigger: 'level',
    },
  ],
};

let dataDir: string;
let configFile: string;
let browser: Browser;
let running: { stack: LocalStack; dashboard: DashboardServer } | undefined;

async function startStack(): Promise<{ stack: LocalStack; dashboard: DashboardServer }> {
  const stack = await startLocalStack({ dataDir, logLevel: 'silent', configFile });
  const dashboard = await attachDashboard(stack, { feed: { tickMs: 100 } });
  running = { stack, dashboard };
  return running;
}

async function stopStack(): Promise<void> {
  await running?.dashboard.close();
  await running?.stack.stop();
  running = undefined;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'marketflow-dashboard-restart-'));
  configFile = join(dataDir, '..', `${join(dataDir).split('/').pop()}-config.json`);
  writeFileSync(configFile, JSON.stringify({ alertRules: ALERT_RULES }));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stopStack();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (configFile) await rm(configFile, { force: true });
});

async function openPage(url: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
  await page.locator('#connection.live').waitFor();
  return page;
}

test('busiest symbol first, every alert counted, alerts kept across a restart', async (t) => {
  const { stack } = await startStack();
  // A symbol that sorts first by name but has three events, and a busy one.
  const aaa = rawEntries('dash-usdt-1m-2020-09-09.json', 3).map((entry) => ({
    ...entry,
    Detail: (entry.Detail as string)
      .replaceAll('DASH-USDT', 'AAA-USDT')
      .replace('"event_id":"', '"event_id":"aaa-'),
  }));
  await putAll(stack, [...aaa, ...rawEntries('btc-usdt-1m-2021-02-19.json', BTC_BARS)]);
  await stack.bus.idle();

  await t.test('the page opens on the busiest symbol, not the first by name', async () => {
    const page = await openPage(running?.dashboard.url as string);
    await page.waitForFunction(() => document.querySelectorAll('#symbol-picker option').length === 2);
    assert.deepEqual(await page.locator('#symbol-picker option').allTextContents(), ['AAA-USDT', 'BTC-USDT']);
    assert.equal(await page.locator('#symbol-picker').inputValue(), 'BTC-USDT');
    await page.close();
  });

  await t.test('the alert count is every alert sent, though the page fetched the newest 100', async () => {
    const page = await openPage(running?.dashboard.url as string);
    await page.waitForFunction(
      (expected) => document.querySelector('#alert-count')?.textContent === `(${expected})`,
      BTC_BARS,
    );
    await page.close();
  });

  await t.test(
    'after a restart on the same data directory, the alerts and their count are back',
    async () => {
      await stopStack();
      const restarted = await startStack();
      const page = await openPage(restarted.dashboard.url);
      await page.waitForFunction(
        (expected) => document.querySelector('#alert-count')?.textContent === `(${expected})`,
        BTC_BARS,
      );
      assert.ok((await page.locator('#alert-feed li').count()) >= 100);
      assert.match((await page.locator('#alert-feed li').first().textContent()) ?? '', /LOW.*BTC-USDT/);
      await page.close();
    },
  );
});
