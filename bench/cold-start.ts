import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import {
  type BundleReport,
  buildLambdas,
  LAMBDA_BUILD_OPTIONS,
  type PathBundle,
} from '../scripts/build-lambdas.ts';
import { STAGES, type Stage } from '../src/domain/event-types.ts';
import { DEFAULT_TRACING_PATH, TRACING_PATH_NAMES, type TracingPath } from '../src/lambda/tracing-path.ts';
import { timeFreshImport } from './lib/fresh-process.ts';
import { atMost, type Benchmark, type TargetCheck } from './lib/result.ts';
import { median, round } from './lib/stats.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const COLD_START_TARGET_MS_ABOVE_BARE = 60;
/** DECISIONS.md: a bundle stays within 20 ms of the floor of the required parts (the floor probe). */
export const COLD_START_TARGET_MS_ABOVE_FLOOR = 20;
const FLOOR_PROBE = 'DynamoDB document client + Powertools Tracer (X-Ray SDK)';
export const BUNDLE_TARGET_BYTES = 600 * 1024;

/**
 * The environment of a function as deployed (infra/modules/stage/function.tf, with the defaults of
 * infra/variables.tf; a test holds the two to the same names), plus what Lambda itself sets: a region,
 * and the variables that make Powertools know it runs in Lambda, so that tracing, logging and metrics
 * stay on.
 */
export function lambdaEnvironment(
  stage: Stage,
  options: { sourceMaps?: boolean; tracing?: TracingPath } = {},
): Record<string, string> {
  return {
    MARKETFLOW_TRACING: options.tracing ?? DEFAULT_TRACING_PATH,
    MARKETFLOW_PARAMETER_PREFIX: '/marketflow/bench',
    POWERTOOLS_SERVICE_NAME: stage,
    POWERTOOLS_METRICS_NAMESPACE: 'MarketFlow',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_LOGGER_SAMPLE_RATE: '0',
    POWERTOOLS_PARAMETERS_MAX_AGE: '60',
    NODE_OPTIONS: options.sourceMaps ? '--enable-source-maps' : '',
    MARKETFLOW_EVENT_TYPE_SHARDS: '1',
    AWS_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: `lambda-${stage}-bench`,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    POWERTOOLS_TRACE_ENABLED: 'true',
  };
}

/** Output bytes of a bundle by where they come from: npm package or first-level source folder. */
export function bytesByOrigin(metafile: Metafile): Record<string, number> {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint !== undefined);
  const totals: Record<string, number> = {};
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    totals[originOf(path)] = (totals[originOf(path)] ?? 0) + input.bytesInOutput;
  }
  return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]));
}

export function originOf(path: string): string {
  const marker = 'node_modules/';
  const at = path.lastIndexOf(marker);
  if (at === -1) return path.split('/').slice(0, 2).join('/');
  const parts = path.slice(at + marker.length).split('/');
  return (parts[0]?.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
}

/**
 * Each probe is one dependency used the way the handlers use it, bundled like a handler: its load time
 * in a fresh process says where a cold start goes (the parts overlap: the SDK clients share
 * `@smithy/core` and the Node built-ins).
 */
export const PROBES: Record<string, string> = {
  'Node built-ins the SDK loads (https, crypto, zlib)': `import * as https from 'node:https';
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
globalThis.__probe = [https.request, crypto.createHash('sha256'), zlib.crc32];`,
  'zod/mini and the domain schemas': `import { validateMarketDetail } from './src/domain/market-event.ts';
import { parseAlertRules } from './src/domain/alert-rules.ts';
globalThis.__probe = [validateMarketDetail, parseAlertRules];`,
  'Powertools Tracer (X-Ray SDK)': `import { Tracer } from '@aws-lambda-powertools/tracer';
globalThis.__probe = new Tracer({ serviceName: 'probe' });`,
  'Powertools Logger + Metrics': `import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
globalThis.__probe = [new Logger({ serviceName: 'probe' }), new Metrics({ namespace: 'P', serviceName: 'probe' })];`,
  'DynamoDB client + Document client': `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
globalThis.__probe = DynamoDBDocumentClient.from(new DynamoDBClient({}));`,
  'DynamoDB document client + Powertools Tracer (X-Ray SDK)': `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Tracer } from '@aws-lambda-powertools/tracer';
const tracer = new Tracer({ serviceName: 'probe' });
globalThis.__probe = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));`,
  'OpenTelemetry SDK, OTLP to X-Ray (the tracing path alone)': `import { openTelemetryTracing } from './src/lambda/tracing-opentelemetry.ts';
globalThis.__probe = openTelemetryTracing('probe', process.env);`,
  'DynamoDB document client + OpenTelemetry SDK': `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { openTelemetryTracing } from './src/lambda/tracing-opentelemetry.ts';
const tracing = openTelemetryTracing('probe', process.env);
globalThis.__probe = DynamoDBDocumentClient.from(tracing.client(new DynamoDBClient({})));`,
  'EventBridge client': `import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
globalThis.__probe = [new EventBridgeClient({}), PutEventsCommand];`,
  'SNS client': `import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
globalThis.__probe = [new SNSClient({}), PublishCommand];`,
  'SSM through Powertools parameters (signed request, no SSM client)': `import { SsmApi } from './src/adapters/aws/ssm-api.ts';
import { SsmParameterProvider } from './src/adapters/aws/ssm-parameter-provider.ts';
globalThis.__probe = new SsmParameterProvider(new SsmApi());`,
};

/** Bundles a probe with the options of scripts/build-lambdas.ts. */
async function buildProbe(source: string, outfile: string): Promise<number> {
  await build({
    ...LAMBDA_BUILD_OPTIONS,
    stdin: { contents: source, resolveDir: root, sourcefile: 'probe.ts', loader: 'ts' },
    outfile,
    logLevel: 'error',
  });
  return (await stat(outfile)).size;
}

interface LoadFigures {
  wall_ms: number;
  import_ms: number;
  above_bare_ms: number;
}

type BundleFigures = LoadFigures & { bytes: number; cpu_above_bare_ms: number };
type Variant = { stage: Stage; path: TracingPath };
type Bundles = Map<Stage, BundleReport>;
type Samples = Record<string, { wall: number[]; import: number[]; cpu: number[] }>;

const keyOf = ({ stage, path }: Variant) => `${stage}/${path}`;

/** Output bytes of each bundle of each path by where they come from. */
async function compositions(bundles: Bundles, variants: readonly Variant[]) {
  const composition: Record<string, Record<string, number>> = {};
  for (const variant of variants) {
    const bundle = bundles.get(variant.stage)?.paths[variant.path] as PathBundle;
    composition[keyOf(variant)] = bytesByOrigin(
      JSON.parse(await readFile(bundle.metafile, 'utf8')) as Metafile,
    );
  }
  return composition;
}

/**
 * Interleaved rounds (bare, the floor, then each bundle of each path) so that a burst of load hits
 * them all alike; each round also times the ingestion bundle with source maps on.
 */
async function timeRounds(runs: number, bundles: Bundles, variants: readonly Variant[], floorFile: string) {
  const samples: Samples = {
    bare: { wall: [], import: [], cpu: [] },
    floor: { wall: [], import: [], cpu: [] },
  };
  for (const variant of variants) samples[keyOf(variant)] = { wall: [], import: [], cpu: [] };
  const sourceMapped: number[] = [];
  for (let round = 0; round < runs; round++) {
    const bare = await timeFreshImport(undefined);
    samples.bare?.wall.push(bare.wallMs);
    const bareCpu = await timeFreshImport(null, lambdaEnvironment('ingestion'));
    samples.bare?.cpu.push(bareCpu.cpuMs ?? 0);
    const floorTiming = await timeFreshImport(floorFile, lambdaEnvironment('ingestion'));
    samples.floor?.wall.push(floorTiming.wallMs);
    samples.floor?.cpu.push(floorTiming.cpuMs ?? 0);
    for (const variant of variants) {
      // The handler file, as Lambda loads it: it picks the path's bundle from MARKETFLOW_TRACING.
      const file = bundles.get(variant.stage)?.file as string;
      const timing = await timeFreshImport(file, lambdaEnvironment(variant.stage, { tracing: variant.path }));
      samples[keyOf(variant)]?.wall.push(timing.wallMs);
      samples[keyOf(variant)]?.import.push(timing.importMs);
      samples[keyOf(variant)]?.cpu.push(timing.cpuMs ?? 0);
    }
    // What the `enable_source_maps` Terraform setting costs, on one stage.
    const mapped = await timeFreshImport(
      bundles.get('ingestion')?.file as string,
      lambdaEnvironment('ingestion', { sourceMaps: true }),
    );
    sourceMapped.push(mapped.wallMs);
  }
  return { samples, sourceMapped };
}

/** Each bundle of each path: medians of its samples, and above those of bare node. */
function bundleFigures(
  samples: Samples,
  bundles: Bundles,
  variants: readonly Variant[],
  log: (line: string) => void,
): Record<TracingPath, Record<string, BundleFigures>> {
  const bareWall = median(samples.bare?.wall ?? []);
  const bareCpu = median(samples.bare?.cpu ?? []);
  const paths = {} as Record<TracingPath, Record<string, BundleFigures>>;
  for (const variant of variants) {
    const sample = samples[keyOf(variant)] as Samples[string];
    const wall = median(sample.wall);
    const figures = {
      wall_ms: round(wall, 1),
      import_ms: round(median(sample.import), 1),
      above_bare_ms: round(wall - bareWall, 1),
      cpu_above_bare_ms: round(median(sample.cpu) - bareCpu, 1),
      bytes: bundles.get(variant.stage)?.paths[variant.path].bytes ?? 0,
    };
    paths[variant.path] ??= {};
    paths[variant.path][variant.stage] = figures;
    log(
      `cold-start: ${variant.stage} (${variant.path}) ${figures.above_bare_ms} ms above bare (CPU ${figures.cpu_above_bare_ms} ms), ${round(figures.bytes / 1024, 1)} KB`,
    );
  }
  return paths;
}

/** Where the load time goes: each dependency alone, bundled the same way. */
async function timeProbes(outDir: string, probeRuns: number, bareWall: number, log: (line: string) => void) {
  const probes: Record<string, { bytes: number; import_ms: number; above_bare_ms: number }> = {};
  for (const [name, source] of Object.entries(PROBES)) {
    const file = join(outDir, 'probes', `${Object.keys(probes).length}.cjs`);
    const bytes = await buildProbe(source, file);
    const walls: number[] = [];
    const imports: number[] = [];
    for (let run = 0; run < probeRuns; run++) {
      const timing = await timeFreshImport(file, lambdaEnvironment('ingestion'));
      walls.push(timing.wallMs);
      imports.push(timing.importMs);
    }
    probes[name] = {
      bytes,
      import_ms: round(median(imports), 1),
      above_bare_ms: round(median(walls) - bareWall, 1),
    };
    log(`cold-start probe: ${name} ${round(bytes / 1024, 1)} KB, import ${round(median(imports), 1)} ms`);
  }
  return probes;
}

function coldStartTargets(
  paths: Record<TracingPath, Record<string, BundleFigures>>,
  floor: { cpu_above_bare_ms: number },
): TargetCheck[] {
  const targets: TargetCheck[] = [];
  for (const path of TRACING_PATH_NAMES) {
    for (const stage of STAGES) {
      const figures = paths[path][stage];
      if (!figures) continue;
      const label = `${stage} (${path} tracing)`;
      if (path === DEFAULT_TRACING_PATH)
        targets.push(
          atMost(
            `${label} load above bare node`,
            figures.above_bare_ms,
            COLD_START_TARGET_MS_ABOVE_BARE,
            'ms',
          ),
        );
      // On CPU time: on a shared machine wall time carries the waiting for a core.
      targets.push(
        atMost(
          `${label} load above the floor (CPU)`,
          round(figures.cpu_above_bare_ms - floor.cpu_above_bare_ms, 1),
          COLD_START_TARGET_MS_ABOVE_FLOOR,
          'ms',
        ),
        atMost(`${label} bundle size`, round(figures.bytes / 1024, 1), BUNDLE_TARGET_BYTES / 1024, 'KB'),
      );
    }
  }
  return targets;
}

function coldStartNotes(runs: number): string[] {
  return [
    `stages: the default tracing path (${DEFAULT_TRACING_PATH}); tracing_paths: each stage with each path, the handler file loading the path's bundle as MARKETFLOW_TRACING selects it.`,
    `The floor (DECISIONS.md): the probe "${FLOOR_PROBE}", timed in the same rounds as the bundles; each bundle of each path is judged within ${COLD_START_TARGET_MS_ABOVE_FLOOR} ms of it on CPU time above bare (wall time beside it in the figures).`,
    `Median of ${runs} fresh processes per bundle, interleaved with a bare \`node -e ''\` of the same run; "above bare" is the difference of the medians of spawn-to-exit time.`,
    "Bundles built by scripts/build-lambdas.ts into a temporary directory (CommonJS `index.cjs`), loaded with `require` as Lambda's Node runtime loads a `.cjs` handler, with the deployed function's environment (Powertools tracing, logging and metrics on; `NODE_OPTIONS` empty, the default of `enable_source_maps`).",
    'ingestion_with_source_maps_above_bare_ms: the ingestion bundle with `NODE_OPTIONS=--enable-source-maps` (`enable_source_maps = true`), same rounds.',
    "Beside it, CPU ms above bare: the child's user + system CPU time at the end of the import minus that of a child that imports nothing; the machine is shared, so wall time carries the waiting for a core.",
    'Probes: each dependency bundled alone the same way and imported in a fresh process (median of the runs).',
  ];
}

export const coldStartBenchmark: Benchmark = {
  name: 'cold-start',
  title: 'Cold start: module load of each Lambda bundle in a fresh process',
  async run({ quick, log }) {
    const runs = quick ? 3 : 20;
    const probeRuns = quick ? 2 : 10;
    const outDir = await mkdtemp(join(tmpdir(), 'marketflow-bench-bundles-'));
    try {
      const reports = await buildLambdas(join(outDir, 'lambda'));
      const bundles: Bundles = new Map(reports.map((report) => [report.stage, report]));
      const variants = STAGES.flatMap((stage) => TRACING_PATH_NAMES.map((path) => ({ stage, path })));
      const composition = await compositions(bundles, variants);
      // The floor of the decisions, timed in the same rounds as the bundles it judges.
      const floorFile = join(outDir, 'probes', 'floor.cjs');
      await buildProbe(PROBES[FLOOR_PROBE] as string, floorFile);
      const { samples, sourceMapped } = await timeRounds(runs, bundles, variants, floorFile);
      const bareWall = median(samples.bare?.wall ?? []);
      const bareCpu = median(samples.bare?.cpu ?? []);
      const paths = bundleFigures(samples, bundles, variants, log);
      const probes = await timeProbes(outDir, probeRuns, bareWall, log);
      const floor = {
        above_bare_ms: round(median(samples.floor?.wall ?? []) - bareWall, 1),
        cpu_above_bare_ms: round(median(samples.floor?.cpu ?? []) - bareCpu, 1),
      };
      await writeFile(join(outDir, 'done'), '');
      return {
        targets: coldStartTargets(paths, floor),
        figures: {
          runs,
          bare_node_wall_ms: round(bareWall, 1),
          bare_node_cpu_ms: round(bareCpu, 1),
          default_tracing_path: DEFAULT_TRACING_PATH,
          stages: paths[DEFAULT_TRACING_PATH],
          tracing_paths: paths,
          floor,
          ingestion_with_source_maps_above_bare_ms: round(median(sourceMapped) - bareWall, 1),
          composition_bytes: composition,
          probes,
        },
        notes: coldStartNotes(runs),
      };
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  },
};
