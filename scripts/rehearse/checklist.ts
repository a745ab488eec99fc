/** Named checks and their results: a failed check is recorded, the next one still runs. */
export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was found (on success) or what is wrong (on failure). */
  detail: string;
}

export class Checklist {
  readonly results: CheckResult[] = [];

  /** Runs `body`; a throw fails the check with its message, a returned string is the detail. */
  async check(name: string, body: () => Promise<string | undefined> | string | undefined): Promise<boolean> {
    try {
      const detail = (await body()) ?? 'ok';
      this.results.push({ name, ok: true, detail });
      return true;
    } catch (error) {
      this.results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  get failures(): CheckResult[] {
    return this.results.filter((result) => !result.ok);
  }
}
