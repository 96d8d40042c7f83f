import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  comparePeriods,
  formatPeriod,
  parsePeriod,
  periodBounds,
  shiftPeriod,
} from '../../../src/catalog/period.js';

describe(parsePeriod.name, () => {
  it.each([
    ['2024-06', { year: 2024, frequency: 'monthly', index: 6 }],
    ['2024-Q2', { year: 2024, frequency: 'quarterly', index: 2 }],
  ])('reads %s', (text, expected) => {
    expect(parsePeriod(text)).toEqual(expected);
  });

  it.each([
    '2024-6',
    '2024-13',
    '2024-00',
    '2024-Q5',
    '2024Q1',
    '24-06',
    '2024-06-01',
    '',
    ' 2024-06',
    '3024-01',
  ])('refuses %j', (text) => {
    expect(parsePeriod(text)).toBeUndefined();
  });

  it('round-trips every valid period through its text', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2999 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 12 }),
        (year, monthly, n) => {
          const p = {
            year,
            frequency: monthly ? 'monthly' : 'quarterly',
            index: monthly ? n : ((n - 1) % 4) + 1,
          } as const;
          expect(parsePeriod(formatPeriod(p))).toEqual(p);
        },
      ),
    );
  });
});

describe(shiftPeriod.name, () => {
  it('crosses year ends both ways', () => {
    const dec = parsePeriod('2023-12');
    const q1 = parsePeriod('2024-Q1');
    if (!dec || !q1) throw new Error('fixture');
    expect(formatPeriod(shiftPeriod(dec, 1))).toBe('2024-01');
    expect(formatPeriod(shiftPeriod(q1, -1))).toBe('2023-Q4');
    expect(formatPeriod(shiftPeriod(dec, -24))).toBe('2021-12');
  });

  it('orders periods chronologically', () => {
    expect(['2024-10', '2023-12', '2024-02'].sort(comparePeriods)).toEqual(['2023-12', '2024-02', '2024-10']);
  });

  it('knows the calendar days a period covers', () => {
    expect(periodBounds({ year: 2024, frequency: 'monthly', index: 2 })).toEqual({
      start: '2024-02-01',
      end: '2024-02-29',
    });
    expect(periodBounds({ year: 2023, frequency: 'quarterly', index: 4 })).toEqual({
      start: '2023-10-01',
      end: '2023-12-31',
    });
  });
});
