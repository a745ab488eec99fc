import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Backtest } from '../../src/backtest/engine.ts';
import { BacktestTally } from '../../src/backtest/report.ts';
import { barDetail } from '../../src/cli/input.ts';
import { DEFAULT_ALERT_RULES } from '../../src/config/default-alert-rules.ts';
import {
  type AlertRulesConfig,
  evaluateAlertRules,
  parseAlertRules,
  type RuleInput,
} from '../../src/domain/alert-rules.ts';
import { alertId } from '../../src/domain/event-identity.ts';
import { DATA_FILES, loadBars } from './market-data.ts';

const DEFAULTS_FILE = new URL('../../infra/config/alert-rules.json', import.meta.url);

function parsed(input: unknown): AlertRulesConfig {
  const result = parseAlertRules(input);
  if (!result.ok) assert.fail(JSON.stringify(result.issues));
  return result.value;
}

const rule = (fields: Record<string, unknown>) => ({ id: 'r', severity: 'HIGH', ...fields });
const input = (fields: Partial<RuleInput> = {}): RuleInput => ({
  eventId: 'exchange.binance#trade:1',
  symbol: 'BTC-USDT',
  timestamp: 1613692800000,
  price: 100,
  indicators: {},
  ...fields,
});

describe('parseAlertRules', () => {
  it('loads the committed defaults, which fit a standard SSM parameter (4 KB)', () => {
    const text = readFileSync(DEFAULTS_FILE, 'utf8');
    assert.ok(Buffer.byteLength(text) <= 4096, 'too large for a standard-tier SSM parameter');
    assert.deepEqual(parsed(text), DEFAULT_ALERT_RULES);
    assert.ok(DEFAULT_ALERT_RULES.rules.some((r) => r.severity === 'CRITICAL'));
    const kinds = new Set(DEFAULT_ALERT_RULES.rules.map((r) => r.kind));
    for (const kind of [
      'price_above',
      'price_below',
      'sma_deviation',
      'volatility_above',
      'volume_zscore_above',
      'price_jump',
    ]) {
      assert.ok(kinds.has(kind as never), `no default ${kind} rule`);
    }
  });

  it('fills in the documented defaults and normalizes symbols', () => {
    const config = parsed({
      rules: [
        rule({ id: 'a', kind: 'price_above', threshold: 5, symbols: [' btc-usdt '] }),
        rule({ id: 'b', kind: 'sma_deviation', percent: 2 }),
      ],
    });
    assert.deepEqual(config.rules[0], {
      id: 'a',
      severity: 'HIGH',
      symbols: ['BTC-USDT'],
      enabled: true,
      kind: 'price_above',
      threshold: 5,
      trigger: 'cross',
    });
    assert.equal(config.rules[1]?.kind === 'sma_deviation' && config.rules[1].direction, 'both');
    assert.equal(config.rules[1]?.symbols, undefined);
  });

  it('accepts an empty rule list and JSON text', () => {
    assert.deepEqual(parsed({ rules: [] }), { rules: [] });
    assert.deepEqual(parsed('{"rules":[]}'), { rules: [] });
  });

  const BAD: [name: string, config: unknown, path: string, fragment: string][] = [
    ['not JSON', '{"rules": [', 'config', 'is not valid JSON'],
    ['null', null, 'config', 'must be a JSON object {"rules": [...]}, got null'],
    ['an array', [], 'config', 'got an array'],
    ['no rules', {}, 'rules', 'is required'],
    ['rules not a list', { rules: {} }, 'rules', 'must be a list of rules, got an object'],
    ['unknown top-level field', { rules: [], version: 2 }, 'version', 'is not a known field'],
    ['rule not an object', { rules: ['price_above'] }, 'rules.0', 'must be a rule object'],
    ['missing kind', { rules: [rule({ percent: 1 })] }, 'rules.0.kind', 'is required: one of price_above'],
    ['unknown kind', { rules: [rule({ kind: 'moon' })] }, 'rules.0.kind', 'got the string "moon"'],
    [
      'bad id',
      { rules: [rule({ id: 'Big Rule', kind: 'price_jump', percent: 1 })] },
      'rules.0.id',
      'lower-case letters',
    ],
    [
      'long id',
      { rules: [rule({ id: 'a'.repeat(65), kind: 'price_jump', percent: 1 })] },
      'rules.0.id',
      '1-64',
    ],
    [
      'missing id',
      { rules: [{ kind: 'price_jump', severity: 'LOW', percent: 1 }] },
      'rules.0.id',
      'is required',
    ],
    [
      'bad severity',
      { rules: [rule({ kind: 'price_jump', percent: 1, severity: 'URGENT' })] },
      'rules.0.severity',
      'one of LOW, MEDIUM, HIGH, CRITICAL',
    ],
    [
      'lower-case severity',
      { rules: [rule({ kind: 'price_jump', percent: 1, severity: 'high' })] },
      'rules.0.severity',
      'got the string "high"',
    ],
    [
      'price rule without symbols',
      { rules: [rule({ kind: 'price_above', threshold: 1 })] },
      'rules.0.symbols',
      'a price level is per symbol',
    ],
    [
      'empty symbols',
      { rules: [rule({ kind: 'price_jump', percent: 1, symbols: [] })] },
      'rules.0.symbols',
      'at least one symbol',
    ],
    [
      'homoglyph symbol',
      { rules: [rule({ kind: 'price_jump', percent: 1, symbols: ['ВТС'] })] },
      'rules.0.symbols.0',
      'non-ASCII',
    ],
    [
      'symbols not a list',
      { rules: [rule({ kind: 'price_jump', percent: 1, symbols: 'BTC' })] },
      'rules.0.symbols',
      'must be a list of symbols',
    ],
    [
      'negative threshold',
      { rules: [rule({ kind: 'price_below', threshold: -5, symbols: ['A'] })] },
      'rules.0.threshold',
      'must be greater than 0, got the number -5',
    ],
    [
      'string threshold',
      { rules: [rule({ kind: 'price_below', threshold: '5', symbols: ['A'] })] },
      'rules.0.threshold',
      'must be a number (the price level), got the string "5"',
    ],
    ['missing percent', { rules: [rule({ kind: 'sma_deviation' })] }, 'rules.0.percent', 'is required'],
    [
      'zero level',
      { rules: [rule({ kind: 'volatility_above', level: 0 })] },
      'rules.0.level',
      'must be greater than 0',
    ],
    [
      'bad trigger',
      { rules: [rule({ kind: 'price_above', threshold: 1, symbols: ['A'], trigger: 'edge' })] },
      'rules.0.trigger',
      '"cross" or "level"',
    ],
    [
      'bad direction',
      { rules: [rule({ kind: 'sma_deviation', percent: 1, direction: 'up' })] },
      'rules.0.direction',
      '"above", "below" or "both"',
    ],
    [
      'enabled not boolean',
      { rules: [rule({ kind: 'price_jump', percent: 1, enabled: 'no' })] },
      'rules.0.enabled',
      'must be true or false',
    ],
    [
      'typo in a field',
      { rules: [rule({ kind: 'volume_zscore_above', level: 3, levle: 4 })] },
      'rules.0.levle',
      'is not a known field (a volume_zscore_above rule has the fields',
    ],
    [
      'field of another kind',
      { rules: [rule({ kind: 'price_jump', percent: 1, threshold: 4 })] },
      'rules.0.threshold',
      'is not a known field',
    ],
    [
      'duplicate id',
      {
        rules: [
          rule({ id: 'x', kind: 'price_jump', percent: 1 }),
          rule({ id: 'x', kind: 'price_jump', percent: 2 }),
        ],
      },
      'rules.1.id',
      'duplicates the id of rules.0',
    ],
    [
      'too many rules',
      { rules: Array.from({ length: 101 }, (_, i) => rule({ id: `r${i}`, kind: 'price_jump', percent: 1 })) },
      'rules',
      'at most 100 rules',
    ],
  ];

  for (const [name, config, path, fragment] of BAD) {
    it(`rejects ${name} with a precise error`, () => {
      const result = parseAlertRules(config);
      assert.equal(result.ok, false);
      if (result.ok) return;
      const issue = result.issues.find((candidate) => candidate.path === path);
      assert.ok(issue, `no issue at ${path}: ${JSON.stringify(result.issues)}`);
      assert.ok(issue.message.includes(fragment), `"${issue.message}" does not contain "${fragment}"`);
    });
  }

  it('reports every problem of a document at once', () => {
    const result = parseAlertRules({
      rules: [
        rule({ id: 'x', kind: 'price_jump', percent: -1 }),
        rule({ id: 'x', kind: 'volatility_above', severity: 'NOPE', level: 1 }),
      ],
    });
    assert.deepEqual(!result.ok && result.issues.map((issue) => issue.path), [
      'rules.0.percent',
      'rules.1.severity',
      'rules.1.id',
    ]);
  });
});

describe('evaluateAlertRules', () => {
  const config = (...rules: Record<string, unknown>[]) => parsed({ rules });

  it('raises a price_above alert when the price crosses the level, once', () => {
    const rules = config(rule({ id: 'above', kind: 'price_above', threshold: 57000, symbols: ['BTC-USDT'] }));
    const [alert, ...others] = evaluateAlertRules(input({ price: 57012.5, previousPrice: 56990 }), rules);
    assert.deepEqual(others, []);
    assert.deepEqual(alert, {
      alert_id: alertId('exchange.binance#trade:1', 'above'),
      event_id: 'exchange.binance#trade:1',
      rule_id: 'above',
      kind: 'price_above',
      severity: 'HIGH',
      symbol: 'BTC-USDT',
      timestamp: 1613692800000,
      message: 'BTC-USDT price 57012.50 crossed above 57000',
      values: { price: 57012.5, previous_price: 56990, threshold: 57000 },
    });
    assert.deepEqual(
      evaluateAlertRules(input({ price: 57100, previousPrice: 57012.5 }), rules),
      [],
      'already above',
    );
    assert.deepEqual(
      evaluateAlertRules(input({ price: 57000, previousPrice: 56000 }), rules),
      [],
      'at is not above',
    );
    assert.equal(
      evaluateAlertRules(input({ price: 57100 }), rules)[0]?.message,
      'BTC-USDT price 57100.00 is above 57000',
    );
    assert.deepEqual(
      evaluateAlertRules(input({ symbol: 'ETH-USDT', price: 60000, previousPrice: 1 }), rules),
      [],
    );
  });

  it('raises a level-triggered price_below alert on every event below the level', () => {
    const rules = config(
      rule({ id: 'below', kind: 'price_below', threshold: 46000, symbols: ['BTC-USDT'], trigger: 'level' }),
    );
    assert.equal(evaluateAlertRules(input({ price: 45000, previousPrice: 45500 }), rules).length, 1);
    assert.equal(evaluateAlertRules(input({ price: 46000, previousPrice: 45500 }), rules).length, 0);
    const crossing = config(
      rule({ id: 'below', kind: 'price_below', threshold: 46000, symbols: ['BTC-USDT'] }),
    );
    assert.equal(evaluateAlertRules(input({ price: 45000, previousPrice: 45500 }), crossing).length, 0);
    assert.equal(
      evaluateAlertRules(input({ price: 45736.77, previousPrice: 46010 }), crossing)[0]?.message,
      'BTC-USDT price 45736.77 crossed below 46000',
    );
  });

  it('raises sma_deviation in the configured direction, with the message the operators read', () => {
    const both = config(rule({ id: 'sma', kind: 'sma_deviation', percent: 2 }));
    const event = input({ price: 51613.38, indicatorWindow: 20, indicators: { sma: 50447.1 } });
    const [alert] = evaluateAlertRules(event, both);
    assert.equal(
      alert?.message,
      'BTC-USDT price 51613.38 moved 2.31% above its 20-period SMA 50447.10 (threshold 2%)',
    );
    assert.equal(alert?.values.sma, 50447.1);
    assert.ok(Math.abs((alert?.values.deviation_percent ?? 0) - 2.3119) < 1e-4);
    const below = config(rule({ id: 'sma', kind: 'sma_deviation', percent: 2, direction: 'below' }));
    assert.deepEqual(evaluateAlertRules(event, below), []);
    assert.equal(evaluateAlertRules({ ...event, price: 49000 }, below).length, 1);
    assert.deepEqual(evaluateAlertRules({ ...event, price: 51456 }, both), [], 'a 2.0% move is not above 2%');
    assert.deepEqual(evaluateAlertRules({ ...event, indicators: {} }, both), [], 'no SMA, no alert');
  });

  it('raises volatility_above and volume_zscore_above only when the indicator is present and above', () => {
    const rules = config(
      rule({ id: 'vol', kind: 'volatility_above', level: 0.01 }),
      rule({ id: 'z', kind: 'volume_zscore_above', level: 15, severity: 'LOW' }),
    );
    assert.deepEqual(
      evaluateAlertRules(input({ indicators: { volatility: 0.01, volume_zscore: 15 } }), rules),
      [],
    );
    const alerts = evaluateAlertRules(
      input({ volume: 271.09, indicatorWindow: 20, indicators: { volatility: 0.0103, volume_zscore: 16.4 } }),
      rules,
    );
    assert.deepEqual(
      alerts.map((a) => [a.rule_id, a.severity, a.message]),
      [
        [
          'vol',
          'HIGH',
          'BTC-USDT volatility 0.0103 (1.03% per period over the 20-period window) is above 0.01',
        ],
        [
          'z',
          'LOW',
          'BTC-USDT unusual trading: volume 271.09 is 16.4 standard deviations above the mean of the previous 20 events (threshold 15)',
        ],
      ],
    );
    assert.deepEqual(evaluateAlertRules(input({ indicators: {} }), rules), []);
  });

  it('raises price_jump in both directions and not without a previous price', () => {
    const rules = config(rule({ id: 'jump', kind: 'price_jump', percent: 3, severity: 'CRITICAL' }));
    const [drop] = evaluateAlertRules(input({ price: 47835.64, previousPrice: 49965.21 }), rules);
    assert.equal(drop?.message, 'BTC-USDT price dropped 4.26% from 49965.21 to 47835.64 (threshold 3%)');
    assert.equal(drop?.severity, 'CRITICAL');
    assert.equal(
      evaluateAlertRules(input({ price: 104, previousPrice: 100 }), rules)[0]?.message.includes('jumped 4%'),
      true,
    );
    assert.deepEqual(evaluateAlertRules(input({ price: 103, previousPrice: 100 }), rules), []);
    assert.deepEqual(evaluateAlertRules(input({ price: 200 }), rules), []);
  });

  it('applies symbol filters and skips disabled rules', () => {
    const rules = config(
      rule({ id: 'all', kind: 'price_jump', percent: 1 }),
      rule({ id: 'eth-only', kind: 'price_jump', percent: 1, symbols: ['eth-usdt'] }),
      rule({ id: 'off', kind: 'price_jump', percent: 1, enabled: false }),
    );
    const jump = { price: 110, previousPrice: 100 };
    assert.deepEqual(
      evaluateAlertRules(input(jump), rules).map((a) => a.rule_id),
      ['all'],
    );
    assert.deepEqual(
      evaluateAlertRules(input({ ...jump, symbol: 'ETH-USDT' }), rules).map((a) => a.rule_id),
      ['all', 'eth-only'],
    );
  });

  it('formats small prices with significant digits and keeps each config separate', () => {
    const small = config(rule({ id: 'jump', kind: 'price_jump', percent: 1 }));
    assert.equal(
      evaluateAlertRules(input({ symbol: 'SHIB-USDT', price: 0.00001234, previousPrice: 0.00001 }), small)[0]
        ?.message,
      'SHIB-USDT price jumped 23.4% from 0.00001000 to 0.00001234 (threshold 1%)',
    );
    const other = config(rule({ id: 'other', kind: 'price_jump', percent: 50 }));
    const event = input({ price: 110, previousPrice: 100 });
    assert.equal(evaluateAlertRules(event, small).length, 1);
    assert.equal(evaluateAlertRules(event, other).length, 0);
    assert.equal(evaluateAlertRules(event, small).length, 1);
  });
});

describe('the default rules on the real data', () => {
  for (const { file, symbol } of DATA_FILES) {
    it(`page ${symbol} at most 2 times a day and 3 times an hour, and every episode pages`, () => {
      const inputs = loadBars(file).map((bar, index) => ({
        id: `${file}:${index}`,
        source: 'exchange.binance',
        detail: barDetail({ ...bar, base: symbol.split('-')[0], counter: symbol.split('-')[1] }),
      }));
      const tally = new BacktestTally(60_000);
      const run = new Backtest();
      for (const input of inputs) run.add(input);
      run.run({ alertRules: DEFAULT_ALERT_RULES, indicatorWindow: 20 }, (event) => tally.add(event));
      const [report] = tally.report({ rejected: 0, duplicates: 0 }).symbols;
      assert.ok(report !== undefined);
      const summary = JSON.stringify({
        pages: report.pages,
        rules: report.rules.map((rule) => [rule.ruleId, rule.pages]),
      });
      assert.ok(report.pagesPerDay <= 2, summary);
      assert.ok(report.maxPagesPerHour <= 3, summary);
      assert.ok(report.episodes.length > 0, summary);
      assert.deepEqual(
        report.episodes.filter((episode) => episode.pages === 0),
        [],
        'an episode that does not page',
      );
      if (symbol === 'BTC-USDT') {
        // The week BTC crossed 57,000 and crashed below 46,000 (with one minute down more than 3%).
        const pages = new Map(report.rules.map((rule) => [rule.ruleId, rule.pages]));
        for (const rule of ['btc-usdt-above-57000', 'btc-usdt-below-46000', 'price-jump-3pct'])
          assert.ok((pages.get(rule) ?? 0) > 0, `${rule} never pages: ${summary}`);
      }
    });
  }
});

describe('alert rules across gaps in market time', () => {
  const MINUTE = 60_000;
  const jump = (fields: Record<string, unknown> = {}) =>
    parsed({ rules: [rule({ kind: 'price_jump', percent: 2, ...fields })] });
  const afterGap = (gap: number, fields: Partial<RuleInput> = {}) =>
    input({ price: 110, previousPrice: 100, previousTimestamp: 1613692800000 - gap, ...fields });

  it('compares with the previous event only within five bar intervals by default', () => {
    assert.equal(evaluateAlertRules(afterGap(5 * MINUTE), jump()).length, 1);
    assert.equal(evaluateAlertRules(afterGap(5 * MINUTE + 1), jump()).length, 0);
    const years = afterGap(Date.UTC(2026, 0, 1) - Date.UTC(2021, 1, 19));
    assert.deepEqual(evaluateAlertRules(years, jump()), [], 'a bar of 2021 is no previous price for today');
  });

  it('takes max_gap_ms from the rule, or derives it from the document bar_interval_ms', () => {
    assert.equal(evaluateAlertRules(afterGap(20 * MINUTE), jump({ max_gap_ms: 30 * MINUTE })).length, 1);
    assert.equal(evaluateAlertRules(afterGap(2 * MINUTE), jump({ max_gap_ms: MINUTE })).length, 0);
    const seconds = parsed({ bar_interval_ms: 1000, rules: [rule({ kind: 'price_jump', percent: 2 })] });
    assert.equal(evaluateAlertRules(afterGap(6000), seconds).length, 0);
    assert.equal(evaluateAlertRules(afterGap(5000), seconds).length, 1);
  });

  it('keeps a cross from firing across a gap, but not a level', () => {
    const above = (trigger: string) =>
      parsed({ rules: [rule({ kind: 'price_above', threshold: 105, symbols: ['BTC-USDT'], trigger })] });
    assert.equal(evaluateAlertRules(afterGap(10 * MINUTE), above('cross')).length, 0);
    assert.equal(evaluateAlertRules(afterGap(10 * MINUTE), above('level')).length, 1);
  });

  it('keeps an indicator rule from firing on a window with a larger gap than it accepts', () => {
    const sma = (fields: Record<string, unknown> = {}) =>
      parsed({ rules: [rule({ kind: 'sma_deviation', percent: 3, ...fields })] });
    const event = input({ price: 110, indicators: { sma: 100 }, windowGapMs: 3 * MINUTE });
    assert.equal(evaluateAlertRules(event, sma()).length, 1);
    assert.equal(evaluateAlertRules(event, sma({ max_gap_ms: 2 * MINUTE })).length, 0);
  });

  it('refuses a max_gap_ms or bar_interval_ms that is not a positive number, naming the field', () => {
    const bad = parseAlertRules({
      bar_interval_ms: 0,
      rules: [rule({ kind: 'price_jump', percent: 2, max_gap_ms: '5m' })],
    });
    assert.equal(bad.ok, false);
    assert.deepEqual(bad.ok ? [] : bad.issues.map((issue) => issue.path).sort(), [
      'bar_interval_ms',
      'rules.0.max_gap_ms',
    ]);
  });
});
