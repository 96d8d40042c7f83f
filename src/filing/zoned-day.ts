/**
 * Calendar days in an IANA time zone, with Intl only. Days are `YYYY-MM-DD` strings; instants are Dates.
 */

import { remember } from './memo.js';

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

// Building a DateTimeFormat costs far more than using one; evaluations ask for the same zone over and over.
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    // Throws RangeError for a zone Intl does not know, at the first use.
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** `YYYY-MM-DD HH:mm`: the wall-clock time at `at` in `timeZone`, whatever the locale's conventions. */
export function formatWallClock(at: Date, timeZone: string): string {
  return new Date(wallClock(at.getTime(), timeZone)).toISOString().slice(0, 16).replace('T', ' ');
}

/** The wall-clock time at `at` in `timeZone`, as milliseconds of a UTC date with the same fields. */
function wallClock(at: number, timeZone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatFor(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = fields;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The day number (days since 1970-01-01) of a `YYYY-MM-DD` text. @throws on anything else. */
function dayNumber(date: string): number {
  const m = DATE.exec(date);
  const [year, month, day] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  const ms = Date.UTC(year, month - 1, day);
  if (!m || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new Error(`Not a calendar day: ${JSON.stringify(date)}`);
  }
  return ms / DAY_MS;
}

function fromDayNumber(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

/** The calendar day `n` days after `date` (before it when `n` is negative). */
export function addDays(date: string, n: number): string {
  return fromDayNumber(dayNumber(date) + n);
}

/** Whole days from calendar day `from` to calendar day `to` (negative when `to` comes first). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** The calendar day it is in `timeZone` at the instant `at`. */
export function zonedDay(at: Date, timeZone: string): string {
  const ms = at.getTime();
  return remember(`d\u0000${timeZone}\u0000${ms}`, () =>
    fromDayNumber(Math.floor(wallClock(ms, timeZone) / DAY_MS)),
  );
}

/**
 * The first instant of calendar day `date` in `timeZone`: local midnight, or where a daylight-saving
 * change skips midnight (America/Santiago in September) the first instant after the gap; where
 * midnight happens twice, the first of them.
 * @throws when `date` is not a calendar day or `timeZone` is not a zone Intl knows.
 */
export function startOfZonedDay(date: string, timeZone: string): Date {
  return new Date(remember(`s\u0000${timeZone}\u0000${date}`, () => computeStartOfDay(date, timeZone)));
}

function computeStartOfDay(date: string, timeZone: string): number {
  const wall = dayNumber(date) * DAY_MS;
  // A zone's offset around the day is one of at most two values (before and after a change); midnight
  // minus each is a candidate, and the earliest one that falls on `date` is where the day starts.
  const offsets = new Set([-DAY_MS, 0, DAY_MS].map((d) => wallClock(wall + d, timeZone) - (wall + d)));
  const starts = [...offsets]
    .map((offset) => wall - offset)
    .filter((at) => zonedDay(new Date(at), timeZone) === date)
    .sort((a, b) => a - b);
  const start = starts[0];
  if (start === undefined) throw new Error(`Cannot find the start of ${date} in ${timeZone}`);
  return start;
}
