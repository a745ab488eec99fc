import type { LoggerPort } from '../../stages/ports.ts';

export type LocalLogLevel = 'silent' | 'info' | 'debug';

const SEVERITY = { debug: 0, info: 1, warn: 2, error: 3 } as const;
type Severity = keyof typeof SEVERITY;

/** Lowest severity written at each level: `silent` writes nothing, `info` hides debug. */
const THRESHOLD: Record<LocalLogLevel, number> = { silent: Number.POSITIVE_INFINITY, info: 1, debug: 0 };

/**
 * Structured logger of the local runtime: one JSON line per entry on stderr (stdout stays for what
 * the operator asked to see), quiet unless a level is asked for.
 */
export class LocalLogger implements LoggerPort {
  readonly #threshold: number;
  readonly #context: Record<string, unknown>;
  readonly #write: (line: string) => void;

  constructor(
    level: LocalLogLevel,
    context: Record<string, unknown> = {},
    write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {
    this.#threshold = THRESHOLD[level];
    this.#context = context;
    this.#write = write;
  }

  debug(message: string, extra?: Record<string, unknown>): void {
    this.#log('debug', message, extra);
  }

  info(message: string, extra?: Record<string, unknown>): void {
    this.#log('info', message, extra);
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.#log('warn', message, extra);
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.#log('error', message, extra);
  }

  #log(severity: Severity, message: string, extra?: Record<string, unknown>): void {
    if (SEVERITY[severity] < this.#threshold) return;
    this.#write(
      JSON.stringify({
        level: severity.toUpperCase(),
        timestamp: new Date().toISOString(),
        message,
        ...this.#context,
        ...extra,
      }),
    );
  }
}
