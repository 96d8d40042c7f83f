import type { Catalog } from '../catalog/catalog.js';
import {
  FREQUENCIES,
  type Frequency,
  formatPeriod,
  mustParsePeriod,
  periodBounds,
  periodContaining,
  shiftPeriod,
} from '../catalog/period.js';
import { type FilingDeadlines, filingDueAt } from '../filing/deadline.js';
import { startOfZonedDay } from '../filing/zoned-day.js';
import { type StepRef, stepText } from './rule-test.notation.js';
import type { RuleTest } from './rule-test.types.js';

/** One evaluation of a test: when it runs, and the name it is reported under. */
export interface Step {
  readonly instant: Date;
  /** A period (evaluated at its filing deadline) or a day (evaluated at its start). */
  readonly label: string;
}

/** The steps of a test, in time order, and the day its timeline starts. */
export interface Timeline {
  readonly steps: readonly Step[];
  /** The first day of the earliest period (or day) the test mentions: filings are owed from then. */
  readonly startDay: string;
}

/** More steps than any test needs (80 years of months); a guard against a runaway calendar. */
const MAX_STEPS = 1000;

/**
 * When a step is evaluated: a period at its filing deadline (the end of its due day in the zone, the
 * first instant its filing is late), a day at its start (midnight in the zone, as the first
 * scheduled evaluation of the day).
 * @throws when the catalog has no deadline for the period's frequency.
 */
export function stepInstant(ref: StepRef, deadlines: FilingDeadlines, timeZone: string): Date {
  return ref.kind === 'period'
    ? filingDueAt(ref.period, deadlines, timeZone)
    : startOfZonedDay(ref.day, timeZone);
}

/**
 * The evaluations of a test, as production would run them: the filing deadline of every period of
 * every frequency its institutions report (and of any period it names), from the first period it
 * mentions until its last step; plus every day it names. Steps at the same instant are one step,
 * named by its period.
 * @throws when the catalog has no deadline for a frequency the test uses.
 */
export function buildTimeline(test: RuleTest, catalog: Catalog, timeZone: string): Timeline {
  const deadlines = catalog.filingDeadlines;
  const refs: StepRef[] = [
    ...test.arrivals.flatMap((a): StepRef[] => [{ kind: 'period', period: a.period }, a.at]),
    ...test.checks.map((c) => c.at),
  ];
  // Days as YYYY-MM-DD sort as text.
  const startDay = refs
    .map((r) => (r.kind === 'period' ? periodBounds(mustParsePeriod(r.period)).start : r.day))
    .sort()[0] as string;
  const last = Math.max(...refs.map((r) => stepInstant(r, deadlines, timeZone).getTime()));

  const frequencies = new Set<Frequency>();
  for (const institution of test.institutions)
    for (const metric of catalog.metricsFor(institution.type)) frequencies.add(metric.frequency);
  for (const ref of refs) if (ref.kind === 'period') frequencies.add(mustParsePeriod(ref.period).frequency);

  const byInstant = new Map<number, Step>();
  const add = (instant: Date, label: string, isPeriod: boolean) => {
    const existing = byInstant.get(instant.getTime());
    // A period names its step rather than a day falling on the same instant.
    if (!existing || (isPeriod && !isPeriodLabel(existing.label)))
      byInstant.set(instant.getTime(), { instant, label });
  };
  for (const frequency of FREQUENCIES) {
    if (!frequencies.has(frequency)) continue;
    let period = periodContaining(startDay, frequency);
    if (periodBounds(period).start < startDay) period = shiftPeriod(period, 1);
    for (let n = 0; n < MAX_STEPS; n++, period = shiftPeriod(period, 1)) {
      const text = formatPeriod(period);
      const due = filingDueAt(text, deadlines, timeZone);
      if (due.getTime() > last) break;
      add(due, text, true);
    }
  }
  for (const ref of refs) add(stepInstant(ref, deadlines, timeZone), stepText(ref), ref.kind === 'period');
  const steps = [...byInstant.values()].sort((a, b) => a.instant.getTime() - b.instant.getTime());
  return { steps, startDay };
}

function isPeriodLabel(label: string): boolean {
  return !/^\d{4}-\d{2}-\d{2}$/.test(label);
}
