import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AlertRulesConfig,
  applyAlertRules,
  parseAlertRules,
  type RuleInput,
  type RulesState,
} from '../../src/domain/alert-rules.ts';
import { numberToDecimal } from '../../src/domain/decimal.ts';
import { alertId, resolvedAlertId } from '../../src/domain/event-identity.ts';
import { computeIndicators } from '../../src/domain/indicators.ts';
import { SequentialSeries, type SeriesStep } from '../../src/domain/series.ts';

const MINUTE = 60_000;
const START = Date.UTC(2021, 1, 19);

function config(...rules: Record<string, unknown>[]): AlertRulesConfig {
  const result = parseAlertRules({ rules });
  if (!result.ok) assert.fail(JSON.stringify(result.issues));
  return result.value;
}

const above = (fields: Record<string, unknown> = {}) => ({
  id: 'above',
  kind: 'price_above',
  severity: 'MEDIUM',
  symbols: ['BTC-USDT'],
  threshold: 100,
  ...fields,
});

interface Tick {
  price: string;
  /** Minutes since the previous event (default 1). */
  after?: number;
  volume?: string;
}

/** The steps of a BTC-USDT series of prices one minute apart (events `e0`, `e1`, ...). */
function steps(rules: AlertRulesConfig, prices: readonly string[]): SeriesStep[] {
  const series = new SequentialSeries({ alertRules: rules, indicatorWindow: 20 });
  return prices.map((price, index) => series.next(seriesEvent(index, START + index * MINUTE, price, '1')));
}

function seriesEvent(index: number, timestamp: number, price: string, volume: string) {
  return {
    eventId: `e${index}`,
    symbol: 'BTC-USDT',
    timestamp,
    price: Number(price),
    priceDecimal: price,
    volume: Number(volume),
  };
}

/** What each event of a series gives, compactly: pages as `rule` (`rule/resolved`), held as `rule:reason`. */
function run(rules: AlertRulesConfig, ticks: readonly (Tick | string)[], window = 20): string[][] {
  const series = new SequentialSeries({ alertRules: rules, indicatorWindow: window });
  let timestamp = START;
  return ticks.map((tick, index) => {
    const { price, after = 1, volume = '1' } = typeof tick === 'string' ? { price: tick } : tick;
    if (index > 0) timestamp += after * MINUTE;
    const step = series.next(seriesEvent(index, timestamp, price, volume));
    return [
      ...step.alerts.map((alert) => (alert.resolved ? `${alert.rule_id}/resolved` : alert.rule_id)),
      ...step.held.map((held) => `${held.rule_id}:${held.reason}`),
    ];
  });
}

describe('re-arm band of price levels', () => {
  it('fires again only once the price has gone back past the level by the band (percent)', () => {
    const rules = config(above({ rearm: { percent: 1 } }));
    // Re-arm level 99: 99.5 is inside the band, 99 is back past it.
    assert.deepEqual(run(rules, ['99', '100.5', '99.5', '100.2', '99', '100.1']), [
      [],
      ['above'],
      [],
      [],
      [],
      ['above'],
    ]);
  });

  it('takes an absolute band, and a price_below re-arms above the level plus the band', () => {
    const below = config({
      id: 'below',
      kind: 'price_below',
      severity: 'HIGH',
      symbols: ['BTC-USDT'],
      threshold: 46000,
      rearm: { absolute: 250 },
    });
    assert.deepEqual(run(below, ['46010', '45999.99', '46249.99', '45900', '46250', '45000']).flat(), [
      'below',
      'below',
    ]);
  });

  it('computes the re-arm level exactly: 57000 less 0.3% is 56829, and 56829 itself re-arms', () => {
    const rules = config(above({ threshold: 57000, rearm: { percent: 0.3 } }));
    assert.deepEqual(run(rules, ['57000.01', '56829.01', '57000.02', '56829', '57000.01']), [
      ['above'],
      [],
      [],
      [],
      ['above'],
    ]);
  });

  it('refuses a band that could never re-arm, or one that is not exactly one of percent and absolute', () => {
    const issues = (rearm: unknown, threshold = 100) => {
      const result = parseAlertRules({ rules: [above({ threshold, rearm })] });
      return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
    };
    assert.deepEqual(issues({ percent: 100 }), [
      'rules.0.rearm.percent: must be below 100: the price never goes back below 0',
    ]);
    assert.deepEqual(issues({ absolute: 100 }), [
      'rules.0.rearm.absolute: must be below the threshold 100: the price never goes back below 0',
    ]);
    assert.match(
      issues({ percent: 1, absolute: 1 })[0] ?? '',
      /^rules\.0\.rearm: must be \{"percent": P\} or/,
    );
    assert.match(issues({ percent: -1 })[0] ?? '', /^rules\.0\.rearm/);
    assert.match(issues('1%')[0] ?? '', /^rules\.0\.rearm: must be .* got the string "1%"/);
    const jump = parseAlertRules({
      rules: [{ id: 'j', kind: 'price_jump', severity: 'LOW', percent: 2, rearm: { percent: 1 } }],
    });
    assert.equal(jump.ok, false, 'a re-arm band is for price levels only');
  });
});

describe('cooldown_ms', () => {
  it('holds back a page less than cooldown_ms of market time after the last one, and pages at exactly cooldown_ms', () => {
    const rules = config(above({ cooldown_ms: 10 * MINUTE }));
    const ticks: Tick[] = [
      { price: '101' }, // page at minute 0
      { price: '99', after: 4 },
      { price: '101', after: 5 }, // minute 9: held
      { price: '99' },
      { price: '101', after: 0 }, // minute 10: pages (the end is not part of the cooldown)
    ];
    assert.deepEqual(run(rules, ticks), [['above'], [], ['above:cooldown'], [], ['above']]);
  });

  it('keeps counting across a gap in market time', () => {
    const rules = config(above({ trigger: 'level', cooldown_ms: 60 * MINUTE }));
    assert.deepEqual(run(rules, ['101', { price: '101', after: 30 }, { price: '101', after: 31 }]), [
      ['above'],
      ['above:cooldown'],
      ['above'],
    ]);
  });

  it('limits a level rule to one page per period while its condition holds', () => {
    const rules = config({
      id: 'vol',
      kind: 'volatility_above',
      severity: 'HIGH',
      level: 0.001,
      cooldown_ms: 3 * MINUTE,
    });
    const prices = ['100', '101', '100', '101', '100', '101', '100', '101'];
    const pages = run(rules, prices, 3).map((out) => out.join(','));
    assert.deepEqual(pages, [
      '',
      '',
      'vol',
      'vol:cooldown',
      'vol:cooldown',
      'vol',
      'vol:cooldown',
      'vol:cooldown',
    ]);
  });
});

describe('for_bars', () => {
  it('fires on the Nth consecutive event the condition holds, counting again after a break', () => {
    const rules = config(above({ for_bars: 3 }));
    assert.deepEqual(run(rules, ['101', '101', '99', '101', '102', '103', '104']), [
      ['above:pending'],
      ['above:pending'],
      [],
      ['above:pending'],
      ['above:pending'],
      ['above'],
      [],
    ]);
  });

  it('starts counting again after a gap larger than max_gap_ms', () => {
    const rules = config(above({ trigger: 'level', for_bars: 2 }));
    assert.deepEqual(run(rules, ['101', { price: '101', after: 6 }, '101']), [
      ['above:pending'],
      ['above:pending'],
      ['above'],
    ]);
  });
});

describe('inhibits', () => {
  const jumps = (fields: Record<string, unknown> = {}) =>
    config(
      { id: 'jump-3', kind: 'price_jump', severity: 'CRITICAL', percent: 3, inhibits: ['jump-2'], ...fields },
      { id: 'jump-2', kind: 'price_jump', severity: 'HIGH', percent: 2 },
    );

  it('pages one event once, at the highest severity', () => {
    assert.deepEqual(run(jumps(), ['100', '104', '106.5']), [[], ['jump-3', 'jump-2:inhibited'], ['jump-2']]);
  });

  it('mutes the outranked rule while the outranking one is within its cooldown', () => {
    const rules = jumps({ cooldown_ms: 5 * MINUTE });
    assert.deepEqual(
      run(rules, ['100', '104', '106.5', { price: '109', after: 3 }, { price: '111.5', after: 1 }]),
      [[], ['jump-3', 'jump-2:inhibited'], ['jump-2:inhibited'], ['jump-2:inhibited'], ['jump-2']],
    );
  });

  it('names the inhibiting rule, also when the outranking rule is held itself', () => {
    const rules = config(
      above({ id: 'a', inhibits: ['b'], for_bars: 2 }),
      above({ id: 'b', severity: 'LOW' }),
    );
    const [first, second] = steps(rules, ['101', '101']);
    assert.deepEqual(
      first?.alerts.map((alert) => alert.rule_id),
      ['b'],
      'a pending rule is not active',
    );
    assert.deepEqual(
      second?.alerts.map((alert) => alert.rule_id),
      ['a'],
    );
  });

  it('refuses a reference to itself, to an unknown rule, twice, or a cycle', () => {
    const paths = (rules: Record<string, unknown>[]) => {
      const result = parseAlertRules({ rules });
      return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
    };
    const jump = (id: string, inhibits?: string[]) => ({
      id,
      kind: 'price_jump',
      severity: 'HIGH',
      percent: 2,
      ...(inhibits === undefined ? {} : { inhibits }),
    });
    assert.deepEqual(paths([jump('a', ['a'])]), [
      'rules.0.inhibits.0: names the rule itself: a rule cannot outrank itself',
    ]);
    assert.deepEqual(paths([jump('a', ['b'])]), [
      'rules.0.inhibits.0: names no rule of this document, got "b"',
    ]);
    assert.deepEqual(paths([jump('a', ['b', 'b']), jump('b')]), ['rules.0.inhibits.1: names "b" twice']);
    assert.deepEqual(paths([jump('a', ['b']), jump('b', ['c']), jump('c', ['a'])]), [
      'rules.0.inhibits: makes a cycle of rules outranking each other (a -> b -> c -> a): they would mute each other',
    ]);
    assert.deepEqual(paths([jump('a', [])]), [
      'rules.0.inhibits: must name at least one rule (leave the field out for none)',
    ]);
  });
});

describe('resolved notifications', () => {
  it('tells when a firing that paged ends, with its own id', () => {
    const rules = config(above({ rearm: { absolute: 1 }, resolved: true }));
    const stepped = steps(rules, ['101', '99.5', '101', '99', '101']);
    assert.deepEqual(
      stepped.map((step) => step.alerts.map((alert) => alert.alert_id)),
      [[alertId('e0', 'above')], [], [], [resolvedAlertId('e3', 'above')], [alertId('e4', 'above')]],
    );
    const resolved = stepped[3]?.alerts[0];
    assert.equal(resolved?.resolved, true);
    assert.equal(resolved?.values.paged_at, START);
    assert.equal(
      resolved?.message,
      'BTC-USDT resolved: price above 100 no longer holds (price 99.00, back past the re-arm level 99); it paged at 2021-02-19T00:00:00.000Z',
    );
    assert.notEqual(resolvedAlertId('e3', 'above'), alertId('e3', 'above'));
  });

  it('says nothing for a firing that never paged, nor at a gap', () => {
    const rules = config(above({ resolved: true, cooldown_ms: 60 * MINUTE }));
    assert.deepEqual(run(rules, ['101', '99', '101', '99', '101', { price: '99', after: 10 }]), [
      ['above'],
      ['above/resolved'],
      ['above:cooldown'],
      [],
      ['above:cooldown'],
      [],
    ]);
  });
});

describe('gaps in market time', () => {
  it('lets a cross level fire on the first event of a series, but not on the first after a gap', () => {
    const rules = config(above());
    assert.deepEqual(run(rules, ['101', '99', { price: '101', after: 6 }, '102', '99', '101']), [
      ['above'],
      [],
      [],
      [],
      [],
      ['above'],
    ]);
  });

  it('forgets a firing at a gap: a level rule fires again after it', () => {
    const rules = config(above({ trigger: 'level', cooldown_ms: 0 }));
    assert.deepEqual(run(rules, ['101', { price: '101', after: 6 }]), [['above'], ['above']]);
  });
});

describe('exact comparisons at the threshold, for every kind', () => {
  it('price_above and price_below: equal is not beyond, one unit in the last digit is', () => {
    const rules = config(above({ threshold: 57000.1 }), {
      id: 'below',
      kind: 'price_below',
      severity: 'HIGH',
      symbols: ['BTC-USDT'],
      threshold: 0.1,
    });
    assert.deepEqual(run(rules, ['57000.10000000']), [[]]);
    assert.deepEqual(run(rules, ['57000.10000001']), [['above']]);
    assert.deepEqual(run(rules, ['0.1']), [[]]);
    // The same double as 0.1, yet below it.
    assert.deepEqual(run(rules, ['0.09999999999999999999']), [['below']]);
  });

  it('price_jump: a move of exactly 2% does not fire, one of 2% and a hair does', () => {
    const rules = config({ id: 'jump', kind: 'price_jump', severity: 'HIGH', percent: 2 });
    assert.deepEqual(run(rules, ['50000', '51000']), [[], []]);
    assert.deepEqual(run(rules, ['50000', '49000']), [[], []]);
    assert.deepEqual(run(rules, ['50000', '51000.00000001']), [[], ['jump']]);
    // 0.7 -> 0.714 is 2% exactly, though (0.714 - 0.7) / 0.7 * 100 is 2.0000000000000018 in doubles.
    assert.ok(((0.714 - 0.7) / 0.7) * 100 > 2);
    assert.deepEqual(run(rules, ['0.7', '0.714']), [[], []]);
  });

  it('sma_deviation: a price exactly 3% above its SMA does not fire', () => {
    const rules = config({ id: 'sma', kind: 'sma_deviation', severity: 'MEDIUM', percent: 3 });
    // 19 bars at 1897 and one at 1957: SMA 1900, and 1957 is 3% above it.
    const ticks = [...Array(19).fill('1897'), '1957'];
    assert.deepEqual(run(rules, ticks).at(-1), []);
    assert.deepEqual(run(rules, [...Array(19).fill('1897'), '1957.01']).at(-1), ['sma']);
    assert.deepEqual(run(rules, [...Array(19).fill('1897'), '1843']).at(-1), [], 'below: 1843 vs SMA 1897.3');
  });

  it('volatility_above and volume_zscore_above: the indicator equal to the level does not fire', () => {
    const prices = ['100', '101', '100.5', '102', '101'];
    const volumes = ['1', '2', '1', '2', '9'];
    const points = prices.map((price, index) => ({
      timestamp: START + index * MINUTE,
      price: Number(price),
      volume: Number(volumes[index]),
    }));
    const { volatility } = computeIndicators(points.slice(1), 4);
    const { volume_zscore: zscore } = computeIndicators(points, 4);
    assert.ok(volatility !== undefined && zscore !== undefined);
    const ticks = prices.map((price, index) => ({ price, volume: volumes[index] }));
    const at = (level: number, kind: string) =>
      run(config({ id: 'r', kind, severity: 'LOW', level }), ticks, 4).at(-1);
    assert.deepEqual(at(volatility, 'volatility_above'), []);
    assert.deepEqual(at(volatility * (1 - 1e-15), 'volatility_above'), ['r']);
    assert.deepEqual(at(zscore, 'volume_zscore_above'), []);
    assert.deepEqual(at(zscore * (1 - 1e-15), 'volume_zscore_above'), ['r']);
  });
});

describe('rules state', () => {
  it('is plain JSON: stepping from a stored copy gives the same outcome as stepping on', () => {
    const rules = config(
      above({ rearm: { percent: 0.5 }, cooldown_ms: 30 * MINUTE, resolved: true, inhibits: ['jump'] }),
      { id: 'jump', kind: 'price_jump', severity: 'HIGH', percent: 0.5, for_bars: 2 },
    );
    let state: RulesState | undefined;
    const prices = ['99', '100.6', '101.5', '100.2', '99.4', '100.9', '99.4', '101'];
    prices.forEach((price, index) => {
      const input: RuleInput = {
        eventId: `e${index}`,
        symbol: 'BTC-USDT',
        timestamp: START + index * MINUTE,
        price: Number(price),
        priceDecimal: price,
        indicators: {},
        ...(index === 0
          ? {}
          : {
              previousPrice: Number(prices[index - 1]),
              previousPriceDecimal: prices[index - 1] as string,
              previousTimestamp: START + (index - 1) * MINUTE,
            }),
      };
      const direct = applyAlertRules(input, rules, state);
      const stored = applyAlertRules(input, rules, state && JSON.parse(JSON.stringify(state)));
      assert.deepEqual(stored, direct);
      state = direct.state;
    });
  });

  it('is {} for a quiet symbol, and says what each rule remembers', () => {
    const rules = config(above({ cooldown_ms: 10 * MINUTE, resolved: true }));
    const states: RulesState[] = steps(rules, ['99', '101', '99', '99']).map((step) => step.state);
    assert.deepEqual(states, [
      {},
      { above: { f: 1, p: START + MINUTE, l: START + MINUTE } },
      { above: { l: START + MINUTE } },
      { above: { l: START + MINUTE } },
    ]);
  });
});

describe('compiled thresholds', () => {
  it('take a threshold as the decimal it is written as', () => {
    assert.equal(numberToDecimal(57000.1), '57000.1');
    const rules = config(above({ threshold: 0.30000000000000004 }));
    assert.deepEqual(run(rules, ['0.3']), [[]]);
    assert.deepEqual(run(rules, ['0.30000000000000005']), [['above']]);
  });
});
