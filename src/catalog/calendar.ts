import { zonedDay } from '../filing/zoned-day.js';
import { type Period, shiftPeriod } from './period.js';

function firstMonth(p: Period): number {
  return p.frequency === 'monthly' ? p.index : (p.index - 1) * 3 + 1;
}

/** The first day of a period, `YYYY-MM-DD`. */
export function periodFirstDay(p: Period): string {
  return `${p.year}-${String(firstMonth(p)).padStart(2, '0')}-01`;
}

/** The last day of a period, `YYYY-MM-DD`. */
export function periodLastDay(p: Period): string {
  const lastMonth = firstMonth(p) + (p.frequency === 'monthly' ? 0 : 2);
  // Day 0 of the next month is the last day of this one.
  const day = new Date(Date.UTC(p.year, lastMonth, 0)).getUTCDate();
  return `${p.year}-${String(lastMonth).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whether a period is over on a given local date: its data cannot be final before. */
export function periodHasEnded(p: Period, today: string): boolean {
  return periodFirstDay(shiftPeriod(p, 1)) <= today;
}

/** The quarter a month belongs to, when that month is the quarter's last one (March, June, …). */
export function quarterEndingIn(p: Period): Period | undefined {
  if (p.frequency !== 'monthly' || p.index % 3 !== 0) return undefined;
  return { year: p.year, frequency: 'quarterly', index: p.index / 3 };
}

/** The last month that has ended at `at` in a time zone (`YYYY-MM`): the period now due for filing. */
export function latestEndedMonth(at: Date, timeZone: string): string {
  const [year, month] = zonedDay(at, timeZone).split('-').map(Number) as [number, number];
  const y = month === 1 ? year - 1 : year;
  const m = month === 1 ? 12 : month - 1;
  return `${y}-${String(m).padStart(2, '0')}`;
}
