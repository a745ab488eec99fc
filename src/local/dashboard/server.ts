import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoAuditLog } from '../../adapters/aws/audit-log.ts';
import { DynamoSilences } from '../../adapters/aws/silences.ts';
import {
  applyServerTimeouts,
  closeServerPromptly,
  refuseForeignRequest,
  sendRefusal,
} from '../http/loopback-guard.ts';
import type { LocalStack } from '../runtime/stack.ts';
import { buildAssets } from './assets.ts';
import { LiveFeed, type LiveFeedOptions } from './live-feed.ts';
import { route } from './routes.ts';
import { SseHub } from './sse-hub.ts';
import { StoreFollower } from './store-follower.ts';

export interface DashboardServerOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Loopback only: the dashboard reads everything the pipeline stored and has no authentication. */
  host?: '127.0.0.1';
  feed?: LiveFeedOptions;
}

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the live dashboard of a local stack on loopback (node:http, no framework). */
export async function startDashboardServer(
  stack: LocalStack,
  options: DashboardServerOptions = {},
): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1')
    throw new Error(`host: the dashboard listens on 127.0.0.1 only, got '${String(host)}'`);
  const assets = await buildAssets();
  const hub = new SseHub();
  const follower = new StoreFollower(stack.documentClient, stack.config.eventsTable);
  const feed = new LiveFeed(stack, hub, follower, options.feed);
  await feed.start();
  const context = {
    assets,
    hub,
    feed,
    store: follower.store,
    audit: new DynamoAuditLog(stack.documentClient, stack.config.auditTable),
    silences: new DynamoSilences(stack.documentClient, stack.config.eventsTable),
  };
  let port = 0;
  const server = createServer((request, response) => {
    // The dashboard reads everything the pipeline stored: the same boundary as every local endpoint.
    const refusal = refuseForeignRequest(request, port);
    if (refusal === null) void route(context, request, response);
    else sendRefusal(response, refusal);
  });
  applyServerTimeouts(server);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await feed.stop();
    hub.close();
    throw error;
  }
  port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/`,
    close() {
      closing ??= (async () => {
        await feed.stop();
        hub.close();
        await closeServerPromptly(server, 0);
      })();
      return closing;
    },
  };
}
