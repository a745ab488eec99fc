import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  alertId,
  idempotencyKey,
  MAX_ALERT_ID_LENGTH,
  MAX_KEY_LENGTH,
} from '../../src/domain/event-identity.ts';

const EVENT_ID = '6a7e8feb-b491-4cf7-a9f1-bf3703467718';
const event = (detail: unknown, source = 'exchange.binance', id = EVENT_ID) => ({ id, source, detail });

describe('idempotencyKey', () => {
  it("prefers the producer's trade id, scoped by source", () => {
    assert.equal(idempotencyKey(event({ trade_id: '123', event_id: 'e-1' })), 'exchange.binance#trade:123');
    assert.equal(idempotencyKey(event({ trade_id: 123 })), 'exchange.binance#trade:123');
    assert.equal(idempotencyKey(event({ trade_id: 123 }, 'exchange.kraken')), 'exchange.kraken#trade:123');
  });

  it('falls back to the event id, then to the EventBridge id', () => {
    assert.equal(idempotencyKey(event({ event_id: 'e-1' })), 'exchange.binance#event:e-1');
    assert.equal(idempotencyKey(event({ trade_id: '', event_id: 'e-1' })), 'exchange.binance#event:e-1');
    assert.equal(idempotencyKey(event({})), EVENT_ID);
    for (const detail of [null, [], 'text', 5, { trade_id: ' ' }, { trade_id: -1 }, { trade_id: 1.5 }]) {
      assert.equal(idempotencyKey(event(detail)), EVENT_ID, JSON.stringify(detail));
    }
    assert.equal(idempotencyKey(event({ trade_id: { id: 1 }, event_id: 7 })), 'exchange.binance#event:7');
  });

  it('is the same for a producer retry (new EventBridge id) and differs between producers', () => {
    const first = idempotencyKey(event({ trade_id: 'T9' }, 'exchange.binance', 'id-1'));
    assert.equal(idempotencyKey(event({ trade_id: 'T9', price: '2' }, 'exchange.binance', 'id-2')), first);
    assert.notEqual(idempotencyKey(event({ trade_id: 'T9' }, 'exchange.kraken', 'id-1')), first);
    assert.notEqual(idempotencyKey(event({ event_id: 'T9' }, 'exchange.binance', 'id-1')), first);
  });

  it('hashes keys that would be too long or not printable ASCII', () => {
    const longSource = `exchange.${'x'.repeat(250)}`;
    const key = idempotencyKey(event({ trade_id: '1' }, longSource));
    assert.match(key, /^sha256:[0-9a-f]{64}$/);
    assert.equal(key, idempotencyKey(event({ trade_id: '1' }, longSource)));
    assert.notEqual(key, idempotencyKey(event({ trade_id: '2' }, longSource)));
    assert.match(idempotencyKey(event({}, 'exchange.b', 'id\u0000with-nul')), /^sha256:/);
  });

  it('is always a printable ASCII string of at most 255 characters', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.anything(), (id, source, detail) => {
        const key = idempotencyKey({ id, source, detail });
        assert.ok(key.length > 0, 'never empty');
        assert.ok(key.length <= MAX_KEY_LENGTH);
        assert.match(key, /^[\x20-\x7E]*$/);
        assert.equal(idempotencyKey({ id, source, detail }), key);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('alertId', () => {
  it('is readable and deterministic per event and rule', () => {
    assert.equal(
      alertId('exchange.binance#trade:1', 'price-jump-3pct'),
      'exchange.binance#trade:1#alert:price-jump-3pct',
    );
    assert.equal(alertId('e', 'r'), alertId('e', 'r'));
    assert.notEqual(alertId('e', 'r1'), alertId('e', 'r2'));
    assert.notEqual(alertId('e1', 'r'), alertId('e2', 'r'));
  });

  it('stays within 128 printable ASCII characters', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.stringMatching(/^[a-z0-9-]{1,64}$/),
        (eventId, ruleId) => {
          const id = alertId(eventId, ruleId);
          assert.ok(id.length <= MAX_ALERT_ID_LENGTH, id);
          assert.match(id, /^[\x20-\x7E]+$/);
        },
      ),
    );
    assert.match(alertId(`sha256:${'a'.repeat(64)}`, 'x'.repeat(64)), /^sha256:[0-9a-f]{64}$/);
  });
});
