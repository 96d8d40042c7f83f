import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Frequency,
  formatPeriod,
  periodContaining,
  shiftPeriodText,
} from '../../../src/catalog/period.js';
import {
  daysOverdue,
  type FilingDeadlines,
  filingDueAt,
  filingDueDay,
  isLate,
  periodEndsAt,
  periodsDue,
} from '../../../src/filing/deadline.js';
import { startOfZonedDay, zonedDay } from '../../../src/filing/zoned-day.js';

/** The shipped deadlines: monthly data by the 15th of the next month, quarterly 30 days after the quarter. */
const SHIPPED: FilingDeadlines = {
  monthly: { daysAfterPeriodEnd: 15 },
  quarterly: { daysAfterPeriodEnd: 30 },
};
const SHANGHAI = 'Asia/Shanghai';
const NEW_YORK = 'America/New_York';

describe(filingDueDay.name, () => {
  it.each([
    ['2024-06', SHIPPED, '2024-07-15'],
    ['2024-01', SHIPPED, '2024-02-15'],
    ['2024-12', SHIPPED, '2025-01-15'], // year end
    ['2024-Q1', SHIPPED, '2024-04-30'],
    ['2024-Q2', SHIPPED, '2024-07-30'],
    ['2024-Q4', SHIPPED, '2025-01-30'], // Q4 runs into the next year
    // 29 February: 2024 is a leap year, 2023 and 2100 are not, 2000 is.
    ['2024-01', { monthly: { daysAfterPeriodEnd: 29 } }, '2024-02-29'],
    ['2023-01', { monthly: { daysAfterPeriodEnd: 29 } }, '2023-03-01'],
    ['2024-02', { monthly: { daysAfterPeriodEnd: 0 } }, '2024-02-29'],
    ['2023-02', { monthly: { daysAfterPeriodEnd: 0 } }, '2023-02-28'],
    ['2100-02', { monthly: { daysAfterPeriodEnd: 0 } }, '2100-02-28'],
    ['2000-02', { monthly: { daysAfterPeriodEnd: 0 } }, '2000-02-29'],
    ['2024-02', SHIPPED, '2024-03-15'],
    ['2023-Q4', { quarterly: { daysAfterPeriodEnd: 60 } }, '2024-02-29'],
    ['2024-11', { monthly: { daysAfterPeriodEnd: 45 } }, '2025-01-14'], // two month ends later
  ] as const)('%s with %j is due on %s', (period, deadlines, due) => {
    expect(filingDueDay(period, deadlines)).toBe(due);
  });

  it('refuses a frequency without a deadline and text that is not a period', () => {
    expect(() => filingDueDay('2024-Q2', { monthly: { daysAfterPeriodEnd: 15 } })).toThrow(
      'No filing deadline for quarterly periods',
    );
    expect(() => filingDueDay('2024-6', SHIPPED)).toThrow('Not a period');
  });
});

describe(filingDueAt.name, () => {
  it.each([
    // The example of the brief: the end of 15 July in Quanzhou.
    ['2024-06', SHANGHAI, '2024-07-15T16:00:00.000Z'],
    ['2024-12', SHANGHAI, '2025-01-15T16:00:00.000Z'],
    ['2024-Q4', SHANGHAI, '2025-01-30T16:00:00.000Z'],
    ['2024-Q1', SHANGHAI, '2024-04-30T16:00:00.000Z'],
    ['2024-06', 'UTC', '2024-07-16T00:00:00.000Z'],
    // New York: midnight EDT (UTC−4) in summer, EST (UTC−5) in winter.
    ['2024-06', NEW_YORK, '2024-07-16T04:00:00.000Z'],
    ['2024-12', NEW_YORK, '2025-01-16T05:00:00.000Z'],
    ['2024-Q3', NEW_YORK, '2024-10-31T04:00:00.000Z'],
    ['2024-Q4', NEW_YORK, '2025-01-31T05:00:00.000Z'],
  ])('%s in %s is late from %s', (period, zone, instant) => {
    expect(filingDueAt(period, SHIPPED, zone).toISOString()).toBe(instant);
  });

  // DST in 2024: clocks went forward on 10 March (02:00 → 03:00) and back on 3 November (02:00 → 01:00).
  it.each([
    [{ monthly: { daysAfterPeriodEnd: 9 } }, '2024-02', '2024-03-09', '2024-03-10T05:00:00.000Z'], // due day before the change: ends at EST midnight
    [{ monthly: { daysAfterPeriodEnd: 10 } }, '2024-02', '2024-03-10', '2024-03-11T04:00:00.000Z'], // due on the short day: ends at EDT midnight, 23 hours later
    [{ monthly: { daysAfterPeriodEnd: 2 } }, '2024-10', '2024-11-02', '2024-11-03T04:00:00.000Z'],
    [{ monthly: { daysAfterPeriodEnd: 3 } }, '2024-10', '2024-11-03', '2024-11-04T05:00:00.000Z'], // the long day: 25 hours
  ] as const)('in New York, %j for %s: due %s, late from %s', (deadlines, period, day, instant) => {
    expect(filingDueDay(period, deadlines)).toBe(day);
    expect(filingDueAt(period, deadlines, NEW_YORK).toISOString()).toBe(instant);
  });

  it('starts a day whose midnight a DST change skips at the first instant after the gap', () => {
    // Santiago went from 7 September 24:00 (UTC−4) straight to 8 September 01:00 (UTC−3) in 2024.
    const deadlines = { monthly: { daysAfterPeriodEnd: 6 } }; // 2024-08 due on 6 September, late from 7 September
    expect(startOfZonedDay('2024-09-08', 'America/Santiago').toISOString()).toBe('2024-09-08T04:00:00.000Z');
    expect(
      filingDueAt('2024-08', { monthly: { daysAfterPeriodEnd: 7 } }, 'America/Santiago').toISOString(),
    ).toBe('2024-09-08T04:00:00.000Z');
    expect(filingDueAt('2024-08', deadlines, 'America/Santiago').toISOString()).toBe(
      '2024-09-07T04:00:00.000Z',
    );
  });

  it('always falls on local midnight (or the first instant of the day) of the day after the due day', () => {
    const zones = [
      SHANGHAI,
      NEW_YORK,
      'Europe/London',
      'Australia/Lord_Howe',
      'America/Santiago',
      'Asia/Kathmandu',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 1990, max: 2060 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 120 }),
        fc.constantFrom(...zones),
        (year, month, days, zone) => {
          const period = `${year}-${String(month).padStart(2, '0')}`;
          const deadlines = { monthly: { daysAfterPeriodEnd: days } };
          const dueAt = filingDueAt(period, deadlines, zone);
          const dueDay = filingDueDay(period, deadlines);
          // The instant is on the day after the due day, and a millisecond earlier is still the due day.
          expect(zonedDay(dueAt, zone)).not.toBe(dueDay);
          expect(zonedDay(new Date(dueAt.getTime() - 1), zone)).toBe(dueDay);
        },
      ),
    );
  });
});

describe(isLate.name, () => {
  const dueAt = new Date('2024-07-15T16:00:00.000Z'); // 2024-07-16 00:00 in Quanzhou
  it.each([
    [new Date(dueAt.getTime() - 1), false], // 23:59:59.999 on the due day
    [dueAt, true],
    [new Date('2024-07-01T00:00:00.000Z'), false],
    [new Date('2024-08-01T00:00:00.000Z'), true],
  ])('2024-06 submitted at %s is late: %s', (submittedAt, late) => {
    expect(isLate('2024-06', submittedAt, SHIPPED, SHANGHAI)).toBe(late);
  });
});

describe(daysOverdue.name, () => {
  it.each([
    ['2024-07-15T15:59:59.999Z', 0], // still the due day in Quanzhou
    ['2024-07-15T16:00:00.000Z', 1], // the first day after it
    ['2024-07-16T15:59:59.999Z', 1],
    ['2024-07-16T16:00:00.000Z', 2],
    ['2024-08-14T16:00:00.000Z', 31],
    ['2024-06-01T00:00:00.000Z', 0], // before the period even ended
  ])('for 2024-06 at %s: %i', (now, days) => {
    expect(daysOverdue('2024-06', new Date(now), SHIPPED, SHANGHAI)).toBe(days);
  });

  it('counts calendar days across a DST change, not 24-hour blocks', () => {
    // Due 2024-03-09 in New York; 10 March has 23 hours.
    const deadlines = { monthly: { daysAfterPeriodEnd: 9 } };
    expect(daysOverdue('2024-02', new Date('2024-03-11T04:00:00.000Z'), deadlines, NEW_YORK)).toBe(2);
  });
});

describe(periodEndsAt.name, () => {
  it.each([
    ['2024-06', SHANGHAI, '2024-06-30T16:00:00.000Z'],
    ['2024-Q4', SHANGHAI, '2024-12-31T16:00:00.000Z'],
    ['2024-02', NEW_YORK, '2024-03-01T05:00:00.000Z'],
  ])('%s in %s ends at %s', (period, zone, instant) => {
    expect(periodEndsAt(period, zone).toISOString()).toBe(instant);
  });
});

describe(periodsDue.name, () => {
  it.each([
    // Just before and at the deadline of 2024-06 in Quanzhou.
    ['monthly', '2024-07-15T15:59:59.999Z', SHANGHAI, 3, ['2024-05', '2024-04', '2024-03']],
    ['monthly', '2024-07-15T16:00:00.000Z', SHANGHAI, 3, ['2024-06', '2024-05', '2024-04']],
    ['monthly', '2024-07-31T23:00:00.000Z', SHANGHAI, 1, ['2024-06']], // 1 August in Quanzhou: July not due yet
    // Across the year end.
    ['monthly', '2025-01-20T00:00:00.000Z', SHANGHAI, 3, ['2024-12', '2024-11', '2024-10']],
    ['monthly', '2025-01-10T00:00:00.000Z', SHANGHAI, 2, ['2024-11', '2024-10']],
    // Quarters: Q4 is due on 30 January.
    ['quarterly', '2025-01-30T15:59:59.999Z', SHANGHAI, 2, ['2024-Q3', '2024-Q2']],
    ['quarterly', '2025-01-30T16:00:00.000Z', SHANGHAI, 2, ['2024-Q4', '2024-Q3']],
    ['quarterly', '2024-04-30T16:00:00.000Z', SHANGHAI, 3, ['2024-Q1', '2023-Q4', '2023-Q3']],
    // The same instant is still 15 July in New York, so June is not due there yet.
    ['monthly', '2024-07-16T03:59:59.999Z', NEW_YORK, 1, ['2024-05']],
    ['monthly', '2024-07-16T04:00:00.000Z', NEW_YORK, 1, ['2024-06']],
  ] as const)('%s at %s in %s, lookback %i: %j', (frequency, now, zone, lookback, expected) => {
    expect(periodsDue(frequency, new Date(now), SHIPPED, zone, lookback)).toEqual(expected);
  });

  it('walks back over several periods when a deadline is longer than a period', () => {
    const deadlines = { monthly: { daysAfterPeriodEnd: 45 } };
    // 2024-05 is due on 15 July, 2024-06 on 14 August.
    expect(periodsDue('monthly', new Date('2024-08-01T00:00:00.000Z'), deadlines, SHANGHAI, 2)).toEqual([
      '2024-05',
      '2024-04',
    ]);
  });

  it('names only periods already due, newest first, each one step before the last', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1995-01-01'), max: new Date('2060-01-01'), noInvalidDate: true }),
        fc.constantFrom<Frequency>('monthly', 'quarterly'),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 6 }),
        (now, frequency, days, lookback) => {
          const deadlines = { [frequency]: { daysAfterPeriodEnd: days } };
          const due = periodsDue(frequency, now, deadlines, SHANGHAI, lookback);
          expect(due).toHaveLength(lookback);
          for (const period of due) expect(isLate(period, now, deadlines, SHANGHAI)).toBe(true);
          for (let i = 1; i < due.length; i++) expect(due[i]).toBe(shiftPeriodText(due[i - 1] as string, -1));
          // The period after the newest is not due yet.
          expect(isLate(shiftPeriodText(due[0] as string, 1), now, deadlines, SHANGHAI)).toBe(false);
        },
      ),
    );
  });

  it('refuses a lookback that is not a positive integer', () => {
    expect(() => periodsDue('monthly', new Date(), SHIPPED, SHANGHAI, 0)).toThrow('lookback');
    expect(() => periodsDue('monthly', new Date(), SHIPPED, SHANGHAI, 1.5)).toThrow('lookback');
  });
});

describe(periodContaining.name, () => {
  it.each([
    ['2024-01-01', 'monthly', '2024-01'],
    ['2024-12-31', 'quarterly', '2024-Q4'],
    ['2024-02-29', 'monthly', '2024-02'],
    ['2024-04-01', 'quarterly', '2024-Q2'],
    ['2024-03-31', 'quarterly', '2024-Q1'],
  ] as const)('%s is in the %s period %s', (date, frequency, period) => {
    expect(formatPeriod(periodContaining(date, frequency))).toBe(period);
  });

  it.each(['2023-02-29', '2024-13-01', '2024-6-1', ''])('refuses %j', (date) => {
    expect(() => periodContaining(date, 'monthly')).toThrow('Not a calendar day');
  });
});
