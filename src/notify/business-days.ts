import { addDays, startOfZonedDay, zonedDay } from '../filing/zoned-day.js';

/**
 * Which days the regulator works. China moves working days around public holidays (调休): a weekday
 * can be a day off (`holidays`) and a weekend day a working day (`workdays`), published each year by
 * the State Council, so both lists are configuration, not code.
 */
export interface BusinessCalendar {
  /** `YYYY-MM-DD` weekdays that are days off. */
  readonly holidays: ReadonlySet<string>;
  /** `YYYY-MM-DD` weekend days that are working days. */
  readonly workdays: ReadonlySet<string>;
}

export const NO_HOLIDAYS: BusinessCalendar = { holidays: new Set(), workdays: new Set() };

/** Day of the week of a `YYYY-MM-DD` day, 0 = Sunday … 6 = Saturday (a calendar fact, zone-free). */
export function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/** Whether a calendar day is a working day: Monday–Friday unless a holiday, or a listed workday. */
export function isBusinessDay(date: string, calendar: BusinessCalendar): boolean {
  if (calendar.workdays.has(date)) return true;
  if (calendar.holidays.has(date)) return false;
  const day = weekday(date);
  return day !== 0 && day !== 6;
}

/** The first working day of the month of `date` (`YYYY-MM-DD`). */
export function firstBusinessDayOfMonth(date: string, calendar: BusinessCalendar): string {
  let day = `${date.slice(0, 7)}-01`;
  // A month always has a working day within its first three weeks, even around Spring Festival.
  for (let i = 0; i < 31 && !isBusinessDay(day, calendar); i++) day = addDays(day, 1);
  return day;
}

/** A business-day schedule: at `at` (local `HH:mm`) on every working day, in `timeZone`. */
export interface BusinessDaySchedule {
  readonly at: string;
  readonly timeZone: string;
  readonly calendar: BusinessCalendar;
}

/** The instant of local time `HH:mm` on calendar day `date` in `timeZone`. */
export function instantOf(date: string, at: string, timeZone: string): Date {
  const [hours, minutes] = at.split(':').map(Number) as [number, number];
  // From the start of the local day: right for every zone without a daylight-saving change that day,
  // which Asia/Shanghai has none of.
  return new Date(startOfZonedDay(date, timeZone).getTime() + (hours * 60 + minutes) * 60_000);
}

// Longer than any run of days off China has had (the Spring Festival week plus weekends).
const MAX_DAYS_SEARCHED = 60;

/**
 * The first slot of the schedule strictly after `after`. Pure: the time is a parameter.
 * @throws when no working day comes within 60 days (a calendar listing every day as a holiday).
 */
export function nextSlot(after: Date, schedule: BusinessDaySchedule): Date {
  let day = zonedDay(after, schedule.timeZone);
  for (let i = 0; i <= MAX_DAYS_SEARCHED; i++, day = addDays(day, 1)) {
    if (!isBusinessDay(day, schedule.calendar)) continue;
    const slot = instantOf(day, schedule.at, schedule.timeZone);
    if (slot.getTime() > after.getTime()) return slot;
  }
  throw new Error(`no working day within ${MAX_DAYS_SEARCHED} days after ${after.toISOString()}`);
}

/**
 * The latest slot of the schedule at or before `at`: the reminder now due.
 * @throws when no working day came within the 60 days before.
 */
export function latestSlot(at: Date, schedule: BusinessDaySchedule): Date {
  let day = zonedDay(at, schedule.timeZone);
  for (let i = 0; i <= MAX_DAYS_SEARCHED; i++, day = addDays(day, -1)) {
    if (!isBusinessDay(day, schedule.calendar)) continue;
    const slot = instantOf(day, schedule.at, schedule.timeZone);
    if (slot.getTime() <= at.getTime()) return slot;
  }
  throw new Error(`no working day within ${MAX_DAYS_SEARCHED} days before ${at.toISOString()}`);
}
