/**
 * Every vector of test/fixtures/eventbridge-patterns (see its README for provenance and licence):
 * outcomes recorded against the live TestEventPattern API (localstack's templates) and against
 * event-ruler itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  compileEventPattern,
  InvalidEventPatternException,
  matchesEventPattern,
  testEventPattern,
} from '../../src/eventbridge/index.ts';

interface MatchCase {
  name: string;
  pattern: unknown;
  event: Record<string, unknown>;
  match: boolean;
}
interface ErrorCase {
  name: string;
  pattern: unknown;
  event: Record<string, unknown>;
  error: true;
  aws_error: string;
}

function loadCases<T>(file: string): T[] {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/eventbridge-patterns/${file}`, import.meta.url), 'utf8'),
  ) as T[];
}

const awsCases = loadCases<MatchCase | ErrorCase>('aws-validated-cases.json');
const rulerCases = loadCases<MatchCase>('event-ruler-cases.json');
const isErrorCase = (c: MatchCase | ErrorCase): c is ErrorCase => 'error' in c && c.error === true;

describe('AWS-validated vectors (TestEventPattern outcomes)', () => {
  test('the file holds the 155 recorded cases: 117 outcomes and 38 rejections', () => {
    assert.equal(awsCases.length, 155);
    assert.equal(awsCases.filter(isErrorCase).length, 38);
  });

  for (const vector of awsCases) {
    if (isErrorCase(vector)) {
      test(`${vector.name}: rejected with AWS's message`, () => {
        assert.throws(
          () => testEventPattern(JSON.stringify(vector.pattern), JSON.stringify(vector.event)),
          (error: unknown) => {
            assert.ok(error instanceof InvalidEventPatternException);
            assert.equal(error.name, 'InvalidEventPatternException');
            assert.equal(error.message, vector.aws_error);
            return true;
          },
        );
      });
    } else {
      test(`${vector.name}: ${vector.match ? 'matches' : 'does not match'}`, () => {
        const eventText = JSON.stringify(vector.event);
        assert.deepEqual(testEventPattern(JSON.stringify(vector.pattern), eventText), {
          Result: vector.match,
        });
        // The same outcome through the routing API, from the pattern given as an object.
        assert.equal(matchesEventPattern(compileEventPattern(vector.pattern), vector.event), vector.match);
      });
    }
  }
});

describe('event-ruler unit-test vectors', () => {
  test('the file holds the 35 cases', () => {
    assert.equal(rulerCases.length, 35);
  });

  for (const vector of rulerCases) {
    test(`${vector.name}: ${vector.match ? 'matches' : 'does not match'}`, () => {
      assert.equal(
        matchesEventPattern(compileEventPattern(JSON.stringify(vector.pattern)), vector.event),
        vector.match,
      );
    });
  }
});
