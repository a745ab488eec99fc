import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPE_SHARDS_ENV, eventTypeShardsFromEnv } from '../../src/lambda/event-type-shards.ts';

describe('the functions read the event_type shard count from the environment', () => {
  it('defaults to the required, unsharded index', () => {
    assert.equal(eventTypeShardsFromEnv({}), 1);
    assert.equal(eventTypeShardsFromEnv({ [EVENT_TYPE_SHARDS_ENV]: '' }), 1);
  });

  it('takes a whole number of at least 1 and refuses anything else, naming the variable', () => {
    assert.equal(eventTypeShardsFromEnv({ [EVENT_TYPE_SHARDS_ENV]: '8' }), 8);
    for (const bad of ['0', '-2', '1.5', 'many'])
      assert.throws(
        () => eventTypeShardsFromEnv({ [EVENT_TYPE_SHARDS_ENV]: bad }),
        /MARKETFLOW_EVENT_TYPE_SHARDS: must be a whole number of at least 1/,
      );
  });
});
