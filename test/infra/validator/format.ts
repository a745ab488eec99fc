import { format } from '@cdktf/hcl-tools';
import type { Issue } from './issue.ts';
import { allModules, type TerraformModule } from './parse.ts';

/** The first line where two texts differ, 1-based. */
function firstDifference(
  actual: string,
  expected: string,
): { line: number; actual: string; expected: string } {
  const actualLines = actual.split('\n');
  const expectedLines = expected.split('\n');
  for (let index = 0; index < Math.max(actualLines.length, expectedLines.length); index += 1) {
    if (actualLines[index] !== expectedLines[index]) {
      return { line: index + 1, actual: actualLines[index] ?? '', expected: expectedLines[index] ?? '' };
    }
  }
  return { line: 0, actual: '', expected: '' };
}

/**
 * Like `terraform fmt -check`: every file must equal what hclwrite (the formatter of terraform fmt, in
 * `@cdktf/hcl-tools`) makes of it.
 */
export async function checkFormat(root: TerraformModule): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const { module } of allModules(root)) {
    for (const file of module.files) {
      const formatted = await format(file.source);
      if (formatted !== file.source) {
        const difference = firstDifference(file.source, formatted);
        issues.push({
          check: 'format',
          file: file.relativePath,
          address: `line ${difference.line}`,
          message: `not formatted like terraform fmt: ${JSON.stringify(difference.actual)} should be ${JSON.stringify(difference.expected)}`,
        });
      }
    }
  }
  return issues;
}
