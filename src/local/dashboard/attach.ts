import { readFile } from 'node:fs/promises';
import { type EndpointsFile, endpointsPath, writeEndpointsFile } from '../runtime/data-dir.ts';
import type { LocalStack } from '../runtime/stack.ts';
import { type DashboardServer, type DashboardServerOptions, startDashboardServer } from './server.ts';

/**
 * Starts the dashboard of a running stack and makes it findable: `stack.endpoints.dashboard` and the
 * `dashboard` key of `<data dir>/endpoints.json`. Close it before stopping the stack.
 */
export async function attachDashboard(
  stack: LocalStack,
  options: DashboardServerOptions = {},
): Promise<DashboardServer> {
  const dashboard = await startDashboardServer(stack, options);
  try {
    stack.endpoints.dashboard = dashboard.url;
    const written = JSON.parse(await readFile(endpointsPath(stack.dataDir), 'utf8')) as EndpointsFile;
    const withDashboard: EndpointsFile & { dashboard: string } = { ...written, dashboard: dashboard.url };
    await writeEndpointsFile(stack.dataDir, withDashboard);
  } catch (error) {
    await dashboard.close();
    throw error;
  }
  return dashboard;
}
