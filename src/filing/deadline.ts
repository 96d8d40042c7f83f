import {
  type Frequency,
  formatPeriod,
  mustParsePeriod,
  type Period,
  periodBounds,
  periodContaining,
  shiftPeriod,
} from '../catalog/period.js';
import { remember } from './memo.js';
import { addDays, daysBetween, startOfZonedDay, zonedDay } from './zoned-day.js';

/** When data for a period is due: so many calendar days after the period's last day. */
export interface FilingDeadline {
  readonly daysAfterPeriodEnd: number;
}

/**
 * Deadlines per reporting frequency, from `filing_deadlines` in `catalog.yaml`. The catalog holds one
 * for every frequency its metrics use; asking for a frequency without one throws.
 */
export type FilingDeadlines = Readonly<Partial<Record<Frequency, FilingDeadline>>>;

function deadlineOf(period: Period, deadlines: FilingDeadlines): FilingDeadline {
  const deadline = deadlines[period.frequency];
  if (!deadline) throw new Error(`No filing deadline for ${period.frequency} periods`);
  return deadline;
}

/**
 * The due day of a period's filing, `YYYY-MM-DD`: its last day plus the frequency's
 * `daysAfterPeriodEnd` (2024-06 with 15 days → 2024-07-15; 2024-Q4 with 30 days → 2025-01-30).
 * @throws when `period` is not a period or its frequency has no deadline.
 */
export function filingDueDay(period: string, deadlines: FilingDeadlines): string {
  const p = mustParsePeriod(period);
  const days = deadlineOf(p, deadlines).daysAfterPeriodEnd;
  return remember(`due\u0000${period}\u0000${days}`, () => addDays(periodBounds(p).end, days));
}

/**
 * The instant after which a filing is late: the end of its due day in the regulator's time zone,
 * i.e. the start of the next day there. 2024-06 with 15 days in Asia/Shanghai →
 * 2024-07-16T00:00+08:00 = 2024-07-15T16:00Z. Daylight-saving zones get the offset in force on that day.
 * @throws when `period` is not a period, its frequency has no deadline or the zone is unknown.
 */
export function filingDueAt(period: string, deadlines: FilingDeadlines, timeZone: string): Date {
  const dueDay = filingDueDay(period, deadlines);
  return startOfZonedDay(
    remember(`next\u0000${dueDay}`, () => addDays(dueDay, 1)),
    timeZone,
  );
}

/** Whether a filing submitted at `submittedAt` is late: at or after {@link filingDueAt}. */
export function isLate(
  period: string,
  submittedAt: Date,
  deadlines: FilingDeadlines,
  timeZone: string,
): boolean {
  return submittedAt.getTime() >= filingDueAt(period, deadlines, timeZone).getTime();
}

/**
 * Whole days a filing is overdue at `now`: calendar days in the zone from the due day to `now`'s day,
 * so 1 on the first day after the due day; 0 until the deadline has passed.
 */
export function daysOverdue(period: string, now: Date, deadlines: FilingDeadlines, timeZone: string): number {
  return Math.max(0, daysBetween(filingDueDay(period, deadlines), zonedDay(now, timeZone)));
}

/**
 * The end of a period: the start of the day after its last day, in the zone. An institution that
 * existed before this instant is expected to file for the period.
 */
export function periodEndsAt(period: string, timeZone: string): Date {
  const next = remember(`next\u0000${period}`, () => addDays(periodBounds(mustParsePeriod(period)).end, 1));
  return startOfZonedDay(next, timeZone);
}

/** More steps back than any deadline of up to a few years could need; a guard against a runaway loop. */
const MAX_STEPS_BACK = 1000;

/**
 * The `lookback` most recent periods of `frequency` whose deadline has passed at `now`, newest first
 * (at 2024-07-16T00:00 Asia/Shanghai with monthly data due 15 days after: 2024-06, 2024-05, …).
 * @throws when `lookback` is not a positive integer or the frequency has no deadline.
 */
export function periodsDue(
  frequency: Frequency,
  now: Date,
  deadlines: FilingDeadlines,
  timeZone: string,
  lookback: number,
): string[] {
  if (!Number.isInteger(lookback) || lookback < 1)
    throw new Error(`lookback must be a positive integer, not ${lookback}`);
  // Start at the period containing today and walk back to the newest one already due.
  let period = periodContaining(zonedDay(now, timeZone), frequency);
  for (let steps = 0; filingDueAt(formatPeriod(period), deadlines, timeZone) > now; steps++) {
    if (steps >= MAX_STEPS_BACK) throw new Error(`No ${frequency} period is due at ${now.toISOString()}`);
    period = shiftPeriod(period, -1);
  }
  return Array.from({ length: lookback }, (_, i) => formatPeriod(shiftPeriod(period, -i)));
}
