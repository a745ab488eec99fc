import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { captureIo, rawEnvelopeJson } from './cli-io.ts';

const EVENT = rawEnvelopeJson({ symbol: 'BTC-USDT', price: 300 });

async function testPattern(pattern: string, event = EVENT) {
  const { io, stdout, stderr } = captureIo();
  const code = await main(['test-pattern', '--event-pattern', pattern, '--event', event], io);
  return { code, stdout: stdout(), stderr: stderr() };
}

describe('marketflow test-pattern', () => {
  it('prints {"Result": true} for a match', async () => {
    assert.deepEqual(
      await testPattern('{"source":[{"prefix":"exchange."}],"detail":{"price":[{"numeric":[">",100]}]}}'),
      {
        code: 0,
        stdout: '{"Result": true}\n',
        stderr: '',
      },
    );
  });

  it('prints {"Result": false} for a miss', async () => {
    assert.deepEqual(await testPattern('{"detail":{"price":["300"]}}'), {
      code: 0,
      stdout: '{"Result": false}\n',
      stderr: '',
    });
  });

  it('exits 1 with the AWS CLI error line for a pattern AWS rejects', async () => {
    const result = await testPattern('{"resources":[]}');
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'An error occurred (InvalidEventPatternException) when calling the TestEventPattern operation: Event pattern is not valid. Reason: Empty arrays are not allowed\n',
    );
  });

  it('reads the pattern and the event from @FILE, like the AWS CLI file:// arguments', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'marketflow-pattern-'));
    try {
      await writeFile(join(directory, 'pattern.json'), '{"detail-type":["MarketData.Raw"]}');
      await writeFile(join(directory, 'event.json'), EVENT);
      const { io, stdout } = captureIo({ cwd: directory });
      assert.equal(
        await main(['test-pattern', '--event-pattern', '@pattern.json', '--event', '@event.json'], io),
        0,
      );
      assert.equal(stdout(), '{"Result": true}\n');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
