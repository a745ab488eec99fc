import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareDecimals, decimalToNumber, numberToDecimal } from '../../src/domain/decimal.ts';

/** An exact oracle: a plain decimal as a BigInt numerator over 10^scale. */
function scaled(decimal: string, scale: number): bigint {
  const negative = decimal.startsWith('-');
  const [integer = '', fraction = ''] = (negative ? decimal.slice(1) : decimal).split('.');
  const magnitude = BigInt(integer + fraction.padEnd(scale, '0'));
  return negative ? -magnitude : magnitude;
}

function exactCompare(a: string, b: string): -1 | 0 | 1 {
  const scale = Math.max(a.split('.')[1]?.length ?? 0, b.split('.')[1]?.length ?? 0);
  const difference = scaled(a, scale) - scaled(b, scale);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}

const plainDecimal = fc
  .tuple(
    fc.boolean(),
    fc.stringMatching(/^\d{1,20}$/),
    fc.option(fc.stringMatching(/^\d{1,20}$/), { nil: undefined }),
  )
  .map(
    ([negative, integer, fraction]) =>
      `${negative ? '-' : ''}${integer}${fraction === undefined ? '' : `.${fraction}`}`,
  );

describe('compareDecimals', () => {
  it('orders without float rounding', () => {
    assert.equal(compareDecimals('0.1', '0.10000000000000001'), -1);
    assert.equal(compareDecimals('51613.38000000', '51613.38'), 0);
    assert.equal(compareDecimals('007.5', '7.50'), 0);
    assert.equal(compareDecimals('-0', '0.000'), 0);
    assert.equal(compareDecimals('-1.5', '-1.25'), -1);
    assert.equal(compareDecimals('10', '9.999999999999999999999'), 1);
    assert.equal(compareDecimals('-0.001', '0'), -1);
    assert.equal(compareDecimals(`1${'0'.repeat(100)}`, `9${'9'.repeat(99)}`), 1);
  });

  it('agrees with exact BigInt arithmetic on any plain decimals', () => {
    fc.assert(
      fc.property(plainDecimal, plainDecimal, (a, b) => {
        assert.equal(compareDecimals(a, b), exactCompare(a, b));
        assert.equal(compareDecimals(b, a), -exactCompare(a, b) || 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what is not a plain decimal', () => {
    for (const bad of ['', '1e3', 'NaN', ' 1', '+1', '0x10', '1.', '.5']) {
      assert.throws(() => compareDecimals(bad, '1'), TypeError, bad);
      assert.throws(() => compareDecimals('1', bad), TypeError, bad);
    }
  });
});

describe('numberToDecimal', () => {
  it('writes the shortest round-trip digits in plain notation', () => {
    assert.equal(numberToDecimal(51613.38), '51613.38');
    assert.equal(numberToDecimal(1e-7), '0.0000001');
    assert.equal(numberToDecimal(1.5e-10), '0.00000000015');
    assert.equal(numberToDecimal(1e21), '1000000000000000000000');
    assert.equal(numberToDecimal(1.2345e22), '12345000000000000000000');
    assert.equal(numberToDecimal(-2.5e-8), '-0.000000025');
    assert.equal(numberToDecimal(-0), '0');
    assert.equal(numberToDecimal(0.1), '0.1');
  });

  it('round-trips every finite double exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const decimal = numberToDecimal(n);
        assert.match(decimal, /^-?\d+(\.\d+)?$/);
        assert.equal(decimalToNumber(decimal), n === 0 ? 0 : n);
      }),
      { numRuns: 3000 },
    );
  });
});
