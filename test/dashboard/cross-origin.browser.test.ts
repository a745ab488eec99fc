import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../../scripts/ensure-chromium.ts';
import { attachDashboard } from '../../src/local/dashboard/attach.ts';
import type { DashboardServer } from '../../src/local/dashboard/server.ts';
import { type LocalStack, startLocalStack } from '../../src/local/runtime/stack.ts';

/**
 * What a hostile page does once the user opens it: it knows (or scans for) the local ports and tries
 * to read and write through them, with CORS requests (preflighted) and with "simple" no-cors requests
 * (sent without a preflight, the response unreadable but the effect real).
 */
const ATTACK = `
async function attempt(name, url, init) {
  try {
    const response = await fetch(url, init);
    let body = '';
    try { body = await response.text(); } catch {}
    return { name, type: response.type, status: response.status, body: body.slice(0, 200) };
  } catch (error) {
    return { name, error: String(error) };
  }
}
window.attack = async (targets) => {
  const signed = {
    'content-type': 'application/x-amz-json-1.0',
    authorization: 'AWS4-HMAC-SHA256 Credential=x/20000101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    'x-amz-date': '20000101T000000Z',
  };
  const forgedItem = { event_id: { S: 'forged' }, timestamp: { N: '1' }, status: { S: 'PROCESSED' } };
  const putEvents = JSON.stringify({ Entries: [{ EventBusName: targets.bus, Source: 'exchange.evil', DetailType: 'MarketData.Raw', Detail: '{"symbol":"BTC-USDT"}' }] });
  return [
    await attempt('dynamodb scan (cors)', targets.dynamodb, { method: 'POST', headers: { ...signed, 'x-amz-target': 'DynamoDB_20120810.Scan' }, body: JSON.stringify({ TableName: targets.table }) }),
    await attempt('dynamodb put (cors)', targets.dynamodb, { method: 'POST', headers: { ...signed, 'x-amz-target': 'DynamoDB_20120810.PutItem' }, body: JSON.stringify({ TableName: targets.table, Item: forgedItem }) }),
    await attempt('dynamodb put (no-cors)', targets.dynamodb, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ TableName: targets.table, Item: forgedItem }) }),
    await attempt('admin replay (no-cors)', targets.admin + '/archive/replay', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }),
    await attempt('admin redrive (no-cors)', targets.admin + '/dead-letters/redrive', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }),
    await attempt('admin dead letters (cors)', targets.admin + '/dead-letters', {}),
    await attempt('admin stats (cors)', targets.admin + '/stats', {}),
    await attempt('put-events (cors)', targets.eventbridge, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' }, body: putEvents }),
    await attempt('put-events (no-cors)', targets.eventbridge, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: putEvents }),
    await attempt('dashboard stats (cors)', targets.dashboard + 'api/stats', {}),
    await attempt('dashboard series (cors)', targets.dashboard + 'api/series?symbol=BTC-USDT', {}),
  ];
};
`;

let dataDir: string;
let stack: LocalStack;
let dashboard: DashboardServer;
let attacker: Server;
let attackerUrl: string;
let browser: Browser;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'marketflow-cross-origin-'));
  stack = await startLocalStack({ dataDir, logLevel: 'silent' });
  dashboard = await attachDashboard(stack);
  attacker = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(`<!doctype html><title>a page</title><script>${ATTACK}</script>`);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => attacker?.close(resolve));
  await dashboard?.close();
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Attempt {
  name: string;
  type?: string;
  status?: number;
  body?: string;
  error?: string;
}

test('a page of another loopback origin reads and changes nothing through DynamoDB, PutEvents, admin or dashboard', async () => {
  const itemsBefore = (
    await stack.documentClient.send(new ScanCommand({ TableName: stack.config.eventsTable }))
  ).Count;
  const statsBefore = stack.stats();
  const page = await browser.newPage();
  await page.goto(attackerUrl);
  for (const loopbackName of ['127.0.0.1', 'localhost']) {
    const on = (url: string) => url.replace('127.0.0.1', loopbackName);
    const results = (await page.evaluate(
      (targets) => (window as unknown as { attack(t: object): Promise<Attempt[]> }).attack(targets),
      {
        dynamodb: on(stack.endpoints.dynamodb),
        eventbridge: on(stack.endpoints.eventbridge),
        admin: on(stack.endpoints.admin),
        dashboard: on(dashboard.url),
        table: stack.config.eventsTable,
        bus: stack.endpoints.eventBusName,
      },
    )) as Attempt[];
    assert.equal(results.length, 11);
    for (const result of results) {
      // Nothing readable came back: a failed fetch, or an opaque no-cors response.
      const readable = result.error === undefined && result.type !== 'opaque';
      assert.equal(readable, false, `${loopbackName} ${result.name}: ${JSON.stringify(result)}`);
    }
  }
  await page.close();
  const itemsAfter = (
    await stack.documentClient.send(new ScanCommand({ TableName: stack.config.eventsTable }))
  ).Count;
  const statsAfter = stack.stats();
  assert.equal(itemsAfter, itemsBefore, 'no item was written');
  assert.equal(statsAfter.eventsPut, statsBefore.eventsPut, 'no event was put');
  assert.equal(statsAfter.eventsReplayed, statsBefore.eventsReplayed, 'no replay ran');
  assert.equal(stack.stats().stages.ingestion.invocations, statsBefore.stages.ingestion.invocations);
});
