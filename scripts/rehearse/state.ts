/** Reading Terraform's JSON views (`terraform show -json`, `terraform output -json`, a saved plan). */

export interface StateResource {
  address: string;
  mode: 'managed' | 'data';
  type: string;
  name: string;
  /** The for_each key or count index of the resource instance, if any. */
  index?: string | number;
  values: Record<string, unknown>;
}

interface StateModule {
  resources?: StateResource[];
  child_modules?: StateModule[];
}

export interface ShowState {
  values?: { root_module?: StateModule };
}

/** Every managed resource instance of a `terraform show -json` state, modules included. */
export function managedResources(state: ShowState): StateResource[] {
  const all: StateResource[] = [];
  const visit = (module: StateModule | undefined) => {
    if (!module) return;
    all.push(...(module.resources ?? []).filter((resource) => resource.mode === 'managed'));
    for (const child of module.child_modules ?? []) visit(child);
  };
  visit(state.values?.root_module);
  return all;
}

export function resourcesOfType(state: ShowState, type: string): StateResource[] {
  return managedResources(state).filter((resource) => resource.type === type);
}

/** The stage a resource of the stage module belongs to: `module.stage["ingestion"].…` → ingestion. */
export function stageOf(address: string): string | undefined {
  return /^module\.stage\["([^"]+)"\]\./.exec(address)?.[1];
}

export type Outputs = Record<string, { value: unknown; sensitive: boolean }>;

export function outputString(outputs: Outputs, name: string): string {
  const value = outputs[name]?.value;
  if (typeof value !== 'string' || value === '') throw new Error(`output ${name} is not a non-empty string`);
  return value;
}

export interface PlannedChange {
  address: string;
  actions: string[];
  /** Top-level attributes whose planned value differs from the current one. */
  attributes: string[];
  /** Those of them that are JSON text meaning the same before and after (only the formatting differs). */
  sameJson: string[];
}

function sameJson(before: unknown, after: unknown): boolean {
  if (typeof before !== 'string' || typeof after !== 'string') return false;
  try {
    return JSON.stringify(JSON.parse(before)) === JSON.stringify(JSON.parse(after));
  } catch {
    return false;
  }
}

interface PlanJson {
  resource_changes?: {
    address: string;
    change: { actions: string[]; before: unknown; after: unknown };
  }[];
}

/** What a saved plan (`terraform show -json plan`) would change; no-ops and reads are left out. */
export function plannedChanges(plan: PlanJson): PlannedChange[] {
  return (plan.resource_changes ?? [])
    .filter(({ change }) => !change.actions.every((action) => action === 'no-op' || action === 'read'))
    .map(({ address, change }) => {
      const before = (change.before ?? {}) as Record<string, unknown>;
      const after = (change.after ?? {}) as Record<string, unknown>;
      const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
      const attributes = [...keys]
        .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
        .sort();
      return {
        address,
        actions: change.actions,
        attributes,
        sameJson: attributes.filter((key) => sameJson(before[key], after[key])),
      };
    });
}

interface KnownOmission {
  addressPattern: RegExp;
  attributes: readonly string[];
  /** The attributes' values must mean the same JSON before and after (moto formats it otherwise). */
  sameJsonOnly?: boolean;
  why: string;
}

/**
 * What moto answers differently from AWS, so that a second plan shows an in-place update that is
 * moto's, not ours:
 * - GetFunction returns neither DeadLetterConfig nor LoggingConfig, so Terraform plans to set both
 *   again on each function;
 * - GetQueueAttributes returns a RedrivePolicy written by Python's json.dumps (a space after each `:`
 *   and `,`), which provider 5.100 takes for a change of the delivery queue's redrive_policy
 *   (queued mode) and of the wake-up queue's, though it means the same JSON;
 * - so the delivery queue has a change pending, and its policy, computed by a data source that reads
 *   the queue's ARN, is only known at apply: Terraform plans to set it again.
 */
export const MOTO_KNOWN_OMISSIONS: readonly KnownOmission[] = [
  {
    addressPattern: /^module\.stage\["[a-z]+"\]\.aws_lambda_function\.this$/,
    attributes: ['dead_letter_config', 'logging_config'],
    why: "moto's GetFunction leaves out DeadLetterConfig and LoggingConfig",
  },
  {
    addressPattern: /^module\.stage\["[a-z]+"\]\.aws_sqs_queue\.delivery\[0\]$/,
    attributes: ['redrive_policy'],
    sameJsonOnly: true,
    why: "moto's GetQueueAttributes formats RedrivePolicy with json.dumps spaces; the same JSON",
  },
  {
    addressPattern: /^aws_sqs_queue\.wake_ups$/,
    attributes: ['redrive_policy'],
    sameJsonOnly: true,
    why: "moto's GetQueueAttributes formats RedrivePolicy with json.dumps spaces; the same JSON",
  },
  {
    addressPattern: /^module\.stage\["[a-z]+"\]\.aws_sqs_queue_policy\.delivery\[0\]$/,
    attributes: ['policy'],
    why: 'its policy document reads the delivery queue, which has the redrive_policy change above pending',
  },
];

/** The known omission that explains a planned change, if one does. */
export function knownOmissionOf(change: PlannedChange): KnownOmission | undefined {
  if (change.actions.join() !== 'update') return undefined;
  return MOTO_KNOWN_OMISSIONS.find(
    (known) =>
      known.addressPattern.test(change.address) &&
      change.attributes.every(
        (attribute) =>
          known.attributes.includes(attribute) &&
          (!known.sameJsonOnly || change.sameJson.includes(attribute)),
      ),
  );
}

/** Changes of a second plan that moto's known omissions do not explain. */
export function unexplainedChanges(changes: readonly PlannedChange[]): PlannedChange[] {
  return changes.filter((change) => knownOmissionOf(change) === undefined);
}
