import { checkFormat } from './format.ts';
import type { Issue } from './issue.ts';
import { checkNaming } from './naming.ts';
import { HclParseError, loadModule, type TerraformModule } from './parse.ts';
import { checkReferences } from './references.ts';
import { attributeLookup, checkSchema } from './schema-check.ts';
import { checkSecurity } from './security.ts';

export type { CheckName, Issue } from './issue.ts';
export { describeIssue } from './issue.ts';

export interface ValidationResult {
  module: TerraformModule | undefined;
  issues: Issue[];
}

/** Runs every offline check on a Terraform root directory (and the local modules it calls). */
export async function validateConfiguration(dir: string): Promise<ValidationResult> {
  let module: TerraformModule;
  try {
    module = await loadModule(dir);
  } catch (error) {
    if (error instanceof HclParseError) {
      return {
        module: undefined,
        issues: [{ check: 'parse', file: error.file, address: '', message: error.message }],
      };
    }
    throw error;
  }
  const issues = [
    ...(await checkFormat(module)),
    ...(await checkReferences(module, attributeLookup)),
    ...checkSchema(module),
    ...checkSecurity(module),
    ...checkNaming(module),
  ];
  return { module, issues };
}
