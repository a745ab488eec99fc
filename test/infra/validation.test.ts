import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { INFRA_DIR } from './infra-config.ts';
import { type CheckName, describeIssue, type Issue, validateConfiguration } from './validator/index.ts';

describe('offline validation of infra/', () => {
  let issues: Issue[] = [];

  before(async () => {
    issues = (await validateConfiguration(INFRA_DIR)).issues;
  });

  const clean = (check: CheckName) => {
    const found = issues.filter((issue) => issue.check === check).map(describeIssue);
    assert.deepEqual(found, [], `${check} issues:\n${found.join('\n')}`);
  };

  it('parses every .tf file with the HCL parser', () => clean('parse'));
  it('is formatted exactly like terraform fmt (hclwrite)', () => clean('format'));
  it('resolves every reference, uses every variable and reads only files that exist', () =>
    clean('reference'));
  it('uses only types, arguments and blocks of the AWS provider 6.x schema, with required ones present', () =>
    clean('schema'));
  it('passes the security rules', () => clean('security'));
  it('names every resource {type}-{purpose}-{environment}', () => clean('naming'));
});
