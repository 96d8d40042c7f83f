import { describe, expect, it } from 'vitest';
import {
  type BusinessCalendar,
  firstBusinessDayOfMonth,
  isBusinessDay,
  latestSlot,
  NO_HOLIDAYS,
  nextSlot,
} from '../../../src/notify/business-days.js';

/** National Day 2026: 1–7 October off, Sunday 20 September and Saturday 10 October worked (调休). */
const CALENDAR: BusinessCalendar = {
  holidays: new Set(['2026-10-01', '2026-10-02', '2026-10-05', '2026-10-06', '2026-10-07']),
  workdays: new Set(['2026-09-20', '2026-10-10']),
};
const SHANGHAI = { at: '09:30', timeZone: 'Asia/Shanghai', calendar: CALENDAR };
/** An instant given as Quanzhou wall-clock time (UTC+8, no daylight saving). */
const local = (text: string) => new Date(`${text}:00+08:00`);
const shown = (d: Date) =>
  new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'short',
  }).format(d);

describe(isBusinessDay.name, () => {
  it.each([
    ['2026-09-18', true, 'a Friday'],
    ['2026-09-19', false, 'a Saturday'],
    ['2026-09-20', true, 'a Sunday worked instead of a holiday'],
    ['2026-10-01', false, 'National Day, a Thursday'],
    ['2026-10-07', false, 'a Wednesday of the Golden Week'],
    ['2026-10-08', true, 'the Thursday after it'],
    ['2026-10-10', true, 'a Saturday worked'],
    ['2026-10-11', false, 'the Sunday after'],
  ])('%s is a working day: %s (%s)', (day, expected) => {
    expect(isBusinessDay(day, CALENDAR)).toBe(expected);
  });
});

describe(nextSlot.name, () => {
  // A timeline: from each instant, the next reminder slot, in Quanzhou time.
  it.each([
    ['2026-09-17 08:00', '2026-09-17 09:30', 'later the same working day'],
    ['2026-09-17 09:30', '2026-09-18 09:30', 'strictly after: a slot at the very instant is past'],
    ['2026-09-18 10:00', '2026-09-20 09:30', 'Friday → the Sunday worked (调休), not Monday'],
    ['2026-09-30 09:31', '2026-10-08 09:30', 'over the Golden Week'],
    ['2026-10-08 12:00', '2026-10-09 09:30', 'Thursday → Friday'],
    ['2026-10-09 12:00', '2026-10-10 09:30', 'Friday → the Saturday worked'],
    ['2026-10-10 12:00', '2026-10-12 09:30', 'Saturday worked → Monday'],
  ])('from %s the next slot is %s (%s)', (from, expected) => {
    expect(shown(nextSlot(local(from), SHANGHAI))).toBe(shown(local(expected)));
  });

  it('reads the local time in the given zone, whatever the process zone', () => {
    // 01:30 UTC is 09:30 in Quanzhou; the process runs with TZ=UTC.
    expect(nextSlot(new Date('2026-09-17T00:00:00Z'), SHANGHAI).toISOString()).toBe(
      '2026-09-17T01:30:00.000Z',
    );
    const berlin = { at: '09:30', timeZone: 'Europe/Berlin', calendar: NO_HOLIDAYS };
    expect(nextSlot(new Date('2026-07-01T00:00:00Z'), berlin).toISOString()).toBe('2026-07-01T07:30:00.000Z');
    expect(nextSlot(new Date('2026-12-01T00:00:00Z'), berlin).toISOString()).toBe('2026-12-01T08:30:00.000Z');
  });

  it('refuses a calendar without a working day in sight', () => {
    const days = Array.from({ length: 80 }, (_, i) =>
      new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10),
    );
    const none = { ...SHANGHAI, calendar: { holidays: new Set(days), workdays: new Set<string>() } };
    expect(() => nextSlot(local('2026-01-01 00:00'), none)).toThrow(/no working day/);
  });
});

describe(latestSlot.name, () => {
  it.each([
    ['2026-09-17 09:30', '2026-09-17 09:30', 'a slot is due at its very instant'],
    ['2026-09-17 09:29', '2026-09-16 09:30', 'before today’s slot: yesterday’s'],
    ['2026-09-19 15:00', '2026-09-18 09:30', 'on a Saturday: Friday’s'],
    ['2026-10-05 15:00', '2026-09-30 09:30', 'in the Golden Week: the last day before it'],
  ])('at %s the latest slot is %s (%s)', (at, expected) => {
    expect(shown(latestSlot(local(at), SHANGHAI))).toBe(shown(local(expected)));
  });
});

describe(firstBusinessDayOfMonth.name, () => {
  it.each([
    ['2026-10-15', '2026-10-08', 'after the Golden Week'],
    ['2026-11-20', '2026-11-02', 'the 1st is a Sunday'],
    ['2026-09-05', '2026-09-01', 'a Tuesday'],
  ])('of %s is %s (%s)', (day, expected) => {
    expect(firstBusinessDayOfMonth(day, CALENDAR)).toBe(expected);
  });
});
