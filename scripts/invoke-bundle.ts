/**
 * Runs a built Lambda bundle (`dist/lambda/<stage>/index.cjs`) as Lambda would: one cold start in a
 * fresh Node process with only the given environment (plus PATH), its handler called once per event,
 * one after another. Used by the bundle-run test (stand-ins) and the deploy rehearsal (moto).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const HANDLER_SCRIPT = `const { handler } = require(process.env.BUNDLE);
(async () => {
  const results = [];
  for (const [i, event] of JSON.parse(process.env.EVENTS).entries()) {
    // Lambda's default timeout for the deadline the claim lease is derived from.
    const deadline = Date.now() + 30000;
    results.push(await handler(event, {
      awsRequestId: 'r-' + i,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'lambda-test',
      getRemainingTimeInMillis: () => deadline - Date.now(),
    }) ?? null);
  }
  console.log('handled ' + JSON.stringify(results));
})();`;

export interface BundleRun {
  stdout: string;
  stderr: string;
  /** What the handler returned for each event (null for nothing), e.g. an SQS batch's item failures. */
  results: unknown[];
}

/** Throws (with the child's output) when a handler throws or the process fails. */
export async function invokeBundle(
  bundle: string,
  events: readonly unknown[],
  environment: Record<string, string>,
): Promise<BundleRun> {
  const { stdout, stderr } = await run(process.execPath, ['--input-type=commonjs', '-e', HANDLER_SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '',
      // No X-Ray daemon or facade segment outside Lambda.
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      ...environment,
      BUNDLE: bundle,
      EVENTS: JSON.stringify(events),
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  const handled = /^handled (.*)$/m.exec(stdout);
  if (!handled) throw new Error(`${bundle} did not handle its events: ${stderr.slice(-2000)}`);
  return { stdout, stderr, results: JSON.parse(handled[1] ?? '[]') as unknown[] };
}
