/**
 * The docs say what is true, where that can be checked: their links stay inside the repository and
 * resolve, the figures they quote match what the code and the data give (bundle sizes, data sizes),
 * the commands they show run from a clone, the rule-check snippet runs on the project's Node, and every
 * alarm in infra/ links to its section of the runbook.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { describe, it } from 'node:test';
import { buildLambdas } from '../../scripts/build-lambdas.ts';
import { findCommand } from '../../src/cli/main.ts';
import { bash } from '../support/aws-cli.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** Terraform interpolations the alarm names and descriptions hold, written as Terraform writes them. */
const EACH_KEY = '$' + '{each.key}';
const VAR_STAGE = '$' + '{var.stage}';
const VAR_ENVIRONMENT = '$' + '{var.environment}';
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor of a heading: lower case, punctuation but hyphens dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = read(file).replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.*)$/gm)].map((match) => slug(match[1] as string)));
}

describe('links', () => {
  for (const file of DOCS) {
    it(`every link of ${file} that is not a web address resolves inside the repository`, () => {
      const text = read(file).replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(target as string)) continue;
        const [path, anchor] = (target as string).split('#');
        const resolved = path === '' ? file : normalize(join(dirname(file), path as string));
        assert.ok(!resolved.startsWith('..'), `${file} links outside the repository: ${target}`);
        assert.doesNotThrow(() => read(resolved), `${file} links to ${target}, which does not exist`);
        if (anchor !== undefined) {
          assert.ok(
            anchorsOf(resolved).has(anchor),
            `${file} links to ${target}: no such heading in ${resolved}`,
          );
        }
      }
    });
  }

  it("no doc, and no source but the cost model's (being rewritten), names the customer's documents outside the repository", () => {
    const outside = /DECISIONS\.md|DECISIONS:|requirements-(?:core|detailed)/;
    const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ts') && name !== join('cost', 'requirements.ts'))
      .map((name) => `src/${name}`);
    const offenders = [...DOCS, ...sources].filter((file) => outside.test(read(file)));
    assert.deepEqual(offenders, [], 'point at docs/requirements.md instead');
  });
});

describe('figures the docs quote', () => {
  it('the bundle sizes in the README and docs/benchmarks.md are what npm run build gives', async () => {
    const out = mkdtempSync(join(tmpdir(), 'marketflow-docs-bundles-'));
    try {
      const reports = await buildLambdas(out);
      const sizes = (path: 'opentelemetry' | 'powertools') =>
        reports.map((report) => Math.round(report.paths[path].bytes / 1024)).join(' / ');
      const quoted = `${sizes('opentelemetry')} KB and ${sizes('powertools')} KB`;
      assert.ok(read('README.md').includes(`| ≤ 600 KB | ${quoted}`), `README quotes ${quoted}`);
      assert.ok(
        read('docs/benchmarks.md').includes(`| <= 600 KB | ${quoted}`),
        `benchmarks.md quotes ${quoted}`,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('the bundled data is what the README and docs/cli.md say: a week of one-minute bars per symbol', () => {
    const files = ['btc-usdt-1m-2021-02-19.json', 'dash-usdt-1m-2020-09-09.json'];
    const bars = files.map((file) => JSON.parse(read(`data/${file}`)) as { openTimeInMillis: number }[]);
    for (const series of bars) {
      const days =
        ((series.at(-1)?.openTimeInMillis ?? 0) - (series[0]?.openTimeInMillis ?? 0) + 60_000) / 86_400_000;
      assert.equal(days, 7);
      assert.equal(series.length, 7 * 24 * 60);
    }
    const total = bars.reduce((sum, series) => sum + series.length, 0).toLocaleString('en-US');
    assert.match(
      read('README.md'),
      new RegExp(
        `a week of real one-minute bars of each\\s+of two symbols \\(BTC-USDT and DASH-USDT, 10,080 bars each, ${total} events\\)`,
      ),
    );
    assert.match(read('docs/cli.md'), /a week of bars each, 10,080 bars/);
    assert.doesNotMatch(read('README.md') + read('docs/cli.md'), /two weeks/);
  });
});

/** The commands a doc shows for typing: `marketflow <command>` in code, with what follows on its line. */
function shownCommands(file: string): { line: string; command: string }[] {
  const found: { line: string; command: string }[] = [];
  const text = read(file);
  const blocks = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((match) =>
    (match[1] as string).replaceAll('\\\n', ' ').split('\n'),
  );
  // Headings name commands, they do not show them for typing.
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/^#.*$/gm, '');
  const inline = [...prose.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string);
  for (const line of [...blocks, ...inline]) {
    for (const match of line.matchAll(/(?:npx )?(?<![\w./-])marketflow (?:[a-z][\w-]*)(?: [a-z][\w-]*)?/g)) {
      found.push({ line, command: line.slice(match.index) });
    }
  }
  return found;
}

/** A shell-like split: words, single- and double-quoted strings. */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g)].map(
    (match) => match[1] ?? match[2] ?? match[3] ?? '',
  );
}

describe('commands the docs show', () => {
  for (const file of DOCS) {
    it(`every marketflow command ${file} shows is typed as npx marketflow and parses as the CLI does`, () => {
      for (const { line, command } of shownCommands(file)) {
        const argv = words(command.replace(/^npx /, '')).slice(1);
        const found = findCommand(argv);
        if (!found) continue; // prose: "marketflow local stack is up", "marketflow process 12345"
        const synopsis = file === 'docs/cli.md' && line.startsWith('marketflow ') && /[[|]/.test(line);
        const errorPrefix = /^marketflow [\w ]+:/.test(command);
        if (synopsis || errorPrefix || line.startsWith('#')) continue;
        assert.ok(
          command.startsWith('npx marketflow '),
          `${file}: '${command}' does not run from a clone (npx marketflow)`,
        );
        // Placeholders (UPPER, <...>, $VAR) and the rest of a sentence are not checked; the flags are.
        const known = new Set([...found.command.options.map((option) => `--${option.name}`), '--help']);
        for (const flag of found.rest
          .filter((word) => /^--[a-z]/.test(word))
          .map((word) => (word.split('=')[0] as string).replace(/['".,;:)]+$/, '')))
          assert.ok(known.has(flag as string), `${file}: '${command}': ${found.command.name} has no ${flag}`);
      }
    });
  }

  it("docs/domain.md's rule check runs on the project's Node, whatever the machine's, and finds the defaults valid", async () => {
    const text = read('docs/domain.md');
    const snippet = /```sh\n\s*(npx node --input-type=module[\s\S]*?alert-rules\.json)\n\s*```/.exec(
      text,
    )?.[1];
    assert.ok(snippet, 'docs/domain.md shows the rule check');
    const directory = mkdtempSync(join(tmpdir(), 'marketflow-rule-check-'));
    try {
      for (const name of ['src', 'node_modules', 'package.json'])
        symlinkSync(join(ROOT, name), join(directory, name));
      writeFileSync(join(directory, 'alert-rules.json'), read('infra/config/alert-rules.json'));
      const result = await bash(snippet, directory);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'valid');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('the runbook', () => {
  const anchors = anchorsOf('docs/runbook.md');
  const infraFiles = ['infra', 'infra/modules/stage'].flatMap((directory) =>
    readdirSync(join(ROOT, directory))
      .filter((name) => name.endsWith('.tf'))
      .map((name) => `${directory}/${name}`),
  );
  const alarms = infraFiles.flatMap((file) =>
    [...read(file).matchAll(/resource "aws_cloudwatch_metric_alarm" "(\w+)" \{([\s\S]*?)\n\}/g)].map(
      (match) => ({
        where: `${file}: ${match[1]}`,
        body: match[2] as string,
      }),
    ),
  );

  it('every alarm in infra/ links to its section of docs/runbook.md', () => {
    assert.equal(alarms.length, 5, 'the alarm resources of infra/ (18 alarms once expanded)');
    for (const alarm of alarms) {
      const description = /alarm_description\s*=\s*"(.*)"/.exec(alarm.body)?.[1] ?? '';
      const links = [...description.matchAll(/docs\/runbook\.md#([\w${}.-]+)/g)].map(
        (match) => match[1] as string,
      );
      assert.equal(links.length, 1, `${alarm.where} links to the runbook once: ${description}`);
      // `${each.key}` in a link expands to the alarm's kind (errors, throttles), each with its section.
      const expanded = (links[0] as string).includes(EACH_KEY)
        ? ['errors', 'throttles'].map((kind) => (links[0] as string).replace(EACH_KEY, kind))
        : [links[0] as string];
      for (const anchor of expanded) assert.ok(anchors.has(anchor), `${alarm.where}: no section #${anchor}`);
    }
  });

  /** What the `${each.key}` of an alarm name stands for, by the map its `for_each` walks. */
  const KEYS: Record<string, string[]> = {
    'local.function_alarms': ['errors', 'throttles'],
    'local.table_capacity_alarms': ['<table>-<kind>'],
    'local.stages': ['<stage>'],
    'local.latency_alarm_services': ['<stage>'],
  };

  it('every alarm name of infra/ has its section in the runbook', () => {
    const headings = new Set(
      [...read('docs/runbook.md').matchAll(/^### `(.*)`$/gm)].map((match) => match[1]),
    );
    for (const alarm of alarms) {
      const name = (/alarm_name\s*=\s*"(.*)"/.exec(alarm.body)?.[1] ?? '')
        .replace(VAR_STAGE, '<stage>')
        .replace(VAR_ENVIRONMENT, '<env>');
      const forEach = /for_each\s*=\s*([\w.]+)/.exec(alarm.body)?.[1];
      const keys = forEach === undefined ? [''] : KEYS[forEach];
      assert.ok(
        keys,
        `${alarm.where}: a for_each over ${forEach} the runbook test does not know: add its sections`,
      );
      for (const key of keys) {
        const pattern = name.replace(EACH_KEY, key);
        assert.ok(headings.has(pattern), `no runbook section \`${pattern}\` (${alarm.where})`);
      }
    }
  });
});
