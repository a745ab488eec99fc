/**
 * Runs dynalite in a worker thread, so that DynamoDB has a core of its own while the pipeline runs on
 * the main thread. Takes the dynalite options and port as workerData; posts `{ port }` once
 * listening, or `{ error }`; closes on the message `'close'`.
 */
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

interface DynaliteWorkerData {
  path?: string;
  port: number;
}

const { path, port } = workerData as DynaliteWorkerData;
const server = dynalite({
  ...(path === undefined ? {} : { path }),
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
server.once('error', (error: Error) => parentPort?.postMessage({ error: `${error.name}: ${error.message}` }));
server.listen(port, '127.0.0.1', () =>
  parentPort?.postMessage({ port: (server.address() as AddressInfo).port }),
);
parentPort?.on('message', (message) => {
  if (message === 'close') server.close(() => parentPort?.close());
});
