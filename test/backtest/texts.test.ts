import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { KeySet } from '../../src/backtest/key-set.ts';
import { Texts } from '../../src/backtest/texts.ts';

describe('Texts', () => {
  it('gives back every text pushed, ASCII or not, past several growths', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { maxLength: 3000 }), (texts) => {
        const kept = new Texts();
        for (const [index, text] of texts.entries()) assert.equal(kept.push(text), index);
        assert.equal(kept.length, texts.length);
        texts.forEach((text, index) => {
          assert.equal(kept.at(index), text);
          assert.ok(kept.equals(index, text));
          assert.equal(kept.equals(index, `${text}x`), false);
          if (text.length > 0) assert.equal(kept.equals(index, text.slice(1)), false);
        });
      }),
      { numRuns: 30 },
    );
  });

  it('keeps texts across chunks: more than a MiB of them, and one longer than a chunk', () => {
    const texts = Array.from({ length: 40_000 }, (_, i) =>
      `exchange.binance#event:BTC-USDT:${i}`.repeat(1 + (i % 2)),
    );
    texts.splice(20_000, 0, 'x'.repeat(1.5 * 2 ** 20));
    const kept = new Texts();
    for (const text of texts) kept.push(text);
    texts.forEach((text, index) => {
      assert.equal(kept.at(index), text);
      assert.ok(kept.equals(index, text));
    });
  });

  it('tells texts of the same length apart', () => {
    const kept = new Texts();
    kept.push('51613.38000000');
    kept.push('é');
    assert.equal(kept.equals(0, '51613.38000001'), false);
    assert.equal(kept.equals(1, 'e'), false);
    assert.equal(kept.at(1), 'é');
  });
});

describe('KeySet', () => {
  it('numbers new keys as they come and refuses each one again, as a Set does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 60 })), {
          maxLength: 6000,
        }),
        (keys) => {
          const set = new KeySet();
          const reference = new Map<string, number>();
          for (const key of keys) {
            const index = set.add(key);
            if (reference.has(key)) {
              assert.equal(index, -1);
            } else {
              assert.equal(index, reference.size);
              reference.set(key, index);
            }
          }
          assert.equal(set.size, reference.size);
          for (const [key, index] of reference) assert.equal(set.keyAt(index), key);
        },
      ),
      { numRuns: 20 },
    );
  });
});
