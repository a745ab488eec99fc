import assert from 'node:assert/strict';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../scripts/ensure-chromium.ts';
import { DynamoSilences } from '../../src/adapters/aws/silences.ts';
import { attachDashboard } from '../../src/local/dashboard/attach.ts';
import type { DashboardServer } from '../../src/local/dashboard/server.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';
import { outcomesOf } from '../support/audit-outcomes.ts';
import { putAll, rawEntries, storedEventId } from './market-replay.ts';

const SCREENSHOT = 'test-results/dashboard.png';

/**
 * Price levels inside the range of the first bars of 2021-02-19 (50,800–51,930), so that the slice
 * crosses them several times and alerts of several severities come out.
 */
const ALERT_RULES = {
  rules: [
    {
      id: 'btc-above-51500',
      kind: 'price_above',
      severity: 'MEDIUM',
      symbols: ['BTC-USDT'],
      threshold: 51500,
    },
    { id: 'btc-below-51200', kind: 'price_below', severity: 'HIGH', symbols: ['BTC-USDT'], threshold: 51200 },
    { id: 'dash-below-60', kind: 'price_below', severity: 'CRITICAL', symbols: ['DASH-USDT'], threshold: 60 },
    { id: 'volume-zscore-above-3', kind: 'volume_zscore_above', severity: 'LOW', level: 3 },
  ],
};

let dataDir: string;
let stack: LocalStack;
let dashboard: DashboardServer;
let browser: Browser;
let page: Page;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'marketflow-dashboard-'));
  const configFile = join(dataDir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ alertRules: ALERT_RULES }));
  stack = await startLocalStack({ inMemory: true, dataDir, logLevel: 'silent', configFile });
  dashboard = await attachDashboard(stack, { feed: { tickMs: 250 } });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function tileCount(status: string): Promise<number> {
  const text = await page.locator(`[data-count="${status}"]`).textContent();
  return Number((text ?? '').replaceAll(',', ''));
}

/** Non-transparent pixels of the chart's canvas: zero when nothing was drawn. */
function paintedPixels(): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('#price-chart canvas');
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let painted = 0;
    for (let index = 3; index < data.length; index += 4) if ((data[index] as number) > 0) painted += 1;
    return painted;
  });
}

test('the dashboard shows a replay of real bars live', async (t) => {
  const btc = rawEntries('btc-usdt-1m-2021-02-19.json', 300);
  const dash = rawEntries('dash-usdt-1m-2020-09-09.json', 60);

  // Whatever goes wrong in the page over the whole run: failed requests, 4xx/5xx answers, console errors.
  const problems: string[] = [];
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });

  await t.test('the page loads from the server alone and connects to the stream', async () => {
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(dashboard.url)) external.push(request.url());
    });
    await page.goto(dashboard.url);
    await page.locator('#connection.live').waitFor();
    assert.equal(stack.endpoints.dashboard, dashboard.url);
    assert.deepEqual(external, [], 'every asset comes from the dashboard server (works offline)');
  });

  await t.test('counts by status become non-zero and then grow as more events arrive', async () => {
    await putAll(stack, [...btc.slice(0, 150), ...dash]);
    await page.waitForFunction(
      () => Number(document.querySelector('[data-count="PROCESSED"]')?.textContent) > 0,
    );
    await stack.bus.idle();
    await page.waitForFunction(
      () =>
        Number(document.querySelector('[data-count="PROCESSED"]')?.textContent?.replaceAll(',', '')) === 210,
    );
    assert.equal(await tileCount('INGESTED'), 210);
    assert.equal(await tileCount('REJECTED'), 0);
    await putAll(stack, btc.slice(150));
    await stack.bus.idle();
    await page.waitForFunction(
      () =>
        Number(document.querySelector('[data-count="PROCESSED"]')?.textContent?.replaceAll(',', '')) === 360,
    );
    assert.equal(await tileCount('INGESTED'), 360);
    const processingRow = page.locator('tr[data-stage="processing"] td[data-column="invocations"]');
    // At least one invocation per event: an event that waits for an earlier one comes back (wake-ups).
    assert.ok(Number((await processingRow.textContent())?.replaceAll(',', '')) >= 360);
    assert.equal(await page.locator('tr[data-stage="ingestion"] td[data-column="dlq"]').textContent(), '0');
  });

  await t.test('the chart of BTC-USDT draws every processed bar, picked with the symbol picker', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#symbol-picker option').length === 2);
    assert.deepEqual(await page.locator('#symbol-picker option').allTextContents(), [
      'BTC-USDT',
      'DASH-USDT',
    ]);
    assert.equal(await page.locator('#symbol-picker').inputValue(), 'BTC-USDT');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#price-chart')?.dataset.points === '300',
    );
    assert.ok((await paintedPixels()) > 5000, 'the canvas has the series drawn on it');
    await page.locator('#symbol-picker').selectOption('DASH-USDT');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#price-chart')?.dataset.points === '60',
    );
    await page.locator('#symbol-picker').selectOption('BTC-USDT');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#price-chart')?.dataset.points === '300',
    );
  });

  await t.test('alerts appear in the feed, newest first, coloured by severity', async () => {
    const sent = stack.stats().metrics.notification.counts.NotificationsSent ?? 0;
    assert.ok(sent >= 3, `the rules raise alerts on this slice (got ${sent})`);
    await page.waitForFunction((count) => document.querySelectorAll('#alert-feed li').length === count, sent);
    const severities = await page.locator('#alert-feed .badge').allTextContents();
    assert.ok(severities.includes('MEDIUM') && severities.includes('HIGH'), severities.join(','));
    const colour = await page
      .locator('#alert-feed .badge', { hasText: 'HIGH' })
      .first()
      .evaluate((node) => getComputedStyle(node).backgroundColor);
    assert.equal(colour, 'rgb(255, 162, 112)');
  });

  await t.test('clicking an alert opens its audit trail across the stages', async () => {
    const first = page.locator('#alert-feed button').first();
    const eventId = await first.getAttribute('data-event-id');
    assert.ok(eventId?.startsWith('exchange.binance#event:'), String(eventId));
    await first.click();
    await page.locator('#audit-trail li[data-stage="notification"]').first().waitFor();
    const stages = await page
      .locator('#audit-trail li')
      .evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.stage));
    assert.deepEqual(stages.slice(0, 2), ['ingestion', 'processing']);
    assert.equal(await page.locator('#event-id').inputValue(), eventId);
    assert.match((await page.locator('#stored-item').textContent()) ?? '', /"status": "NOTIFIED"/);
  });

  await t.test('the silences in force are listed, and a new one shows up without a reload', async () => {
    await page.waitForFunction(() =>
      document.querySelector('#silence-list')?.textContent?.startsWith('None'),
    );
    const now = Date.now();
    await new DynamoSilences(stack.documentClient, stack.config.eventsTable).add({
      id: 's-browser',
      symbol: 'DASH-USDT',
      starts_at: now,
      ends_at: now + 3_600_000,
      reason: 'delisting',
      created_at: now,
    });
    await page.waitForFunction(() => document.querySelector('[data-silence-id="s-browser"]') !== null);
    const entry = await page.locator('[data-silence-id="s-browser"]').textContent();
    assert.match(entry ?? '', /every rule on DASH-USDT/);
    assert.match(entry ?? '', /delisting/);
    assert.equal(await page.locator('#silence-count').textContent(), '(1)');
  });

  await t.test('typing an event id and pressing Enter shows its trail and stored item', async () => {
    const eventId = storedEventId('BTC-USDT', 1613692800000);
    await page.locator('#event-id').fill(eventId);
    await page.locator('#event-id').press('Enter');
    await page.waitForFunction(
      () =>
        document
          .querySelector('#inspector-status')
          // "Loading <id>…" names the id too: wait for the loaded trail.
          ?.textContent?.includes('audit records for exchange.binance#event:BTC-USDT:1613692800000') ?? false,
    );
    const steps = await page
      .locator('#audit-trail li')
      .evaluateAll((items) =>
        items.map(
          (item) =>
            `${(item as HTMLElement).dataset.stage}:${item.querySelector('.step-status')?.textContent}`,
        ),
      );
    // One outcome per step, whatever attempt lines sit between them.
    const outcomes = outcomesOf(steps);
    // The first bar crosses above 51,500 (no earlier price): one notification follows.
    assert.deepEqual(outcomes, ['ingestion:INGESTED', 'processing:PROCESSED', 'notification:NOTIFIED']);
    assert.match((await page.locator('#stored-item').textContent()) ?? '', /"price": "51613.38000000"/);

    await page.locator('#event-id').fill('exchange.binance#event:NOPE');
    await page.locator('#event-id').press('Enter');
    await page.waitForFunction(() =>
      /no stored event/.test(document.querySelector('#inspector-status')?.textContent ?? ''),
    );
    assert.equal(await page.locator('#audit-trail li').count(), 0);
  });

  await t.test('an alert is reachable with the keyboard and opens with Enter', async () => {
    await page.locator('#event-id').focus();
    const second = page.locator('#alert-feed button').nth(1);
    const eventId = await second.getAttribute('data-event-id');
    await second.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (id) => document.querySelector<HTMLInputElement>('#event-id')?.value === id,
      eventId,
    );
    await page.locator('#audit-trail li[data-stage="processing"]').first().waitFor();
  });

  await t.test('the alert list shows each rule id and filters by rule, severity and symbol', async () => {
    const shown = () =>
      page.locator('#alert-feed button').evaluateAll((buttons) =>
        buttons.map((button) => ({
          rule: (button as HTMLElement).dataset.ruleId,
          severity: button.querySelector('.badge')?.textContent,
          symbol: button.querySelector('.alert-symbol')?.textContent,
          ruleText: button.querySelector('.alert-rule')?.textContent,
        })),
      );
    const all = await shown();
    assert.ok(
      all.every((alert) => alert.rule !== undefined && alert.rule === alert.ruleText),
      JSON.stringify(all),
    );
    const byRule = all.filter((alert) => alert.rule === 'btc-below-51200').length;
    assert.ok(byRule > 0 && byRule < all.length, `${byRule} of ${all.length}`);

    await page.locator('#alert-filter-rule').selectOption('btc-below-51200');
    await page.waitForFunction(
      (count) => document.querySelectorAll('#alert-feed li').length === count,
      byRule,
    );
    assert.ok((await shown()).every((alert) => alert.rule === 'btc-below-51200'));
    assert.match(
      (await page.locator('#alert-shown').textContent()) ?? '',
      new RegExp(`^${byRule} of the newest`),
    );

    await page.locator('#alert-filter-rule').selectOption('');
    await page.locator('#alert-filter-severity').selectOption('MEDIUM');
    const medium = all.filter((alert) => alert.severity === 'MEDIUM').length;
    assert.ok(medium > 0 && medium < all.length, `${medium} of ${all.length}`);
    await page.waitForFunction(
      (count) => document.querySelectorAll('#alert-feed li').length === count,
      medium,
    );
    assert.ok((await shown()).every((alert) => alert.severity === 'MEDIUM'));

    await page.locator('#alert-filter-severity').selectOption('');
    await page.locator('#alert-filter-symbol').selectOption('BTC-USDT');
    await page.waitForFunction(
      (count) => document.querySelectorAll('#alert-feed li').length === count,
      all.filter((alert) => alert.symbol === 'BTC-USDT').length,
    );
    await page.locator('#alert-filter-symbol').selectOption('');
    await page.waitForFunction(
      (count) => document.querySelectorAll('#alert-feed li').length === count,
      all.length,
    );
  });

  await t.test(
    'the latency view stays readable during a replay of history: ages are left out, and said so',
    async () => {
      await page.waitForFunction(() =>
        /360 samples/.test(
          document.querySelector('[data-series="ingestionToProcessed"] figcaption')?.textContent ?? '',
        ),
      );
      const caption = await page.locator('[data-series="marketToProcessed"] figcaption').textContent();
      // Bars of 2020-2021 replayed now: their market-time latency would be their age in years.
      assert.match(caption ?? '', /— 0 samples, .*; 360 replayed historical events left out/);
      assert.match(
        (await page.locator('#latency-runtime').textContent()) ?? '',
        /Market-time latencies count live events only: 360 processed and \d+ notified events of replayed history/,
      );
      assert.equal(await page.locator('[data-series="marketToProcessed"] tr', { hasText: ' y' }).count(), 0);
    },
  );

  await t.test(
    'a live event after the replayed history starts a new market-time range, never a flat line',
    async () => {
      await putAll(stack, [
        {
          Source: 'exchange.live',
          DetailType: 'MarketData.Raw',
          Detail: JSON.stringify({
            symbol: 'BTC-USDT',
            exchange: 'live',
            price: '51000',
            volume: '1',
            timestamp: Date.now(),
          }),
        },
      ]);
      await page.waitForFunction(() => {
        const chart = document.querySelector<HTMLElement>('#price-chart');
        return chart?.dataset.points === '301' && chart.dataset.ranges === '2';
      });
      assert.equal(
        await page.locator('#price-chart').getAttribute('data-shown'),
        '1',
        'the chart follows live',
      );
      assert.equal(await page.locator('#range-choice').isVisible(), true);
      const ranges = await page.locator('#range-picker option').allTextContents();
      assert.equal(ranges.length, 2);
      assert.match(ranges[0] ?? '', /UTC, 1 bar \(newest\)$/);
      assert.match(ranges[1] ?? '', /^2021-02-19 00:00 – 2021-02-19 04:59 UTC, 300 bars$/);
      await page.locator('#range-picker').selectOption({ index: 1 });
      await page.waitForFunction(
        () => document.querySelector<HTMLElement>('#price-chart')?.dataset.shown === '300',
      );
      assert.ok((await paintedPixels()) > 5000);
      // The live event is measured from its market time: one live sample.
      await page.waitForFunction(() =>
        /— 1 samples/.test(
          document.querySelector('[data-series="marketToProcessed"] figcaption')?.textContent ?? '',
        ),
      );
    },
  );

  await t.test(
    'nothing the page asked for failed, and its console has no errors (no favicon 404)',
    async () => {
      const favicon = await fetch(new URL('favicon.ico', dashboard.url));
      assert.equal(favicon.status, 204);
      // The one thing that answered 4xx is the inspector's lookup of an id that does not exist, on purpose.
      assert.deepEqual(problems, [
        `404: ${new URL('api/events/exchange.binance%23event%3ANOPE', dashboard.url)}`,
        'console: Failed to load resource: the server responded with a status of 404 (Not Found)',
      ]);
    },
  );

  await t.test('a screenshot of the page is saved as a test artifact', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(statSync(SCREENSHOT).size > 10_000);
  });
});
