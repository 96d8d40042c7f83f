import type { ProblemDetail } from '../http/app-error.js';

/**
 * The three outcomes regulatory portals give a check: an error rejects the whole file, a warning is
 * accepted but listed on the receipt and needs the uploader's explanation, an info is only reported.
 */
export type Severity = 'error' | 'warning' | 'info';

/** How many problems of one severity are kept in full; the rest are only counted. */
export const PROBLEMS_KEPT = 1000;

/** Problems found in one upload, by severity, kept up to a cap so a hostile file cannot exhaust memory. */
export class ProblemLog {
  private readonly kept: Record<Severity, ProblemDetail[]> = { error: [], warning: [], info: [] };
  private readonly totals: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  /** Every code seen, with its count, whether or not the problem was kept. */
  readonly codes = new Map<string, number>();

  add(severity: Severity, problem: ProblemDetail): void {
    this.totals[severity] += 1;
    this.codes.set(problem.code, (this.codes.get(problem.code) ?? 0) + 1);
    if (this.kept[severity].length < PROBLEMS_KEPT) this.kept[severity].push(problem);
  }

  error(problem: ProblemDetail): void {
    this.add('error', problem);
  }
  warning(problem: ProblemDetail): void {
    this.add('warning', problem);
  }
  info(problem: ProblemDetail): void {
    this.add('info', problem);
  }

  list(severity: Severity): readonly ProblemDetail[] {
    return this.kept[severity];
  }
  total(severity: Severity): number {
    return this.totals[severity];
  }
  get hasErrors(): boolean {
    return this.totals.error > 0;
  }
}
