import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parsePeriodList,
  parseSeriesValues,
  parseStepRef,
  type SeriesPoint,
} from '../../../src/rules/rule-test.notation.js';

/** The values a notation expands to, `_` for a missing period, with the step they arrive at after `@`. */
function expand(text: string): string[] {
  const parsed = parseSeriesValues(text);
  if (!parsed.ok) throw new Error(`${parsed.message} at ${parsed.offset}`);
  return parsed.value.map((p: SeriesPoint) => {
    const value = p.value === null ? '_' : String(p.value);
    return p.arrives ? `${value}@${p.arrives.kind === 'period' ? p.arrives.period : p.arrives.day}` : value;
  });
}

/** The error of a notation that must fail, as `offset: message`. */
function failure(result: { ok: true } | { ok: false; offset: number; message: string }): string {
  if (result.ok) throw new Error('expected the notation to fail');
  return `${result.offset}: ${result.message}`;
}

describe(parseSeriesValues.name, () => {
  it.each([
    ['3.5 4.2 _ 5.1', ['3.5', '4.2', '_', '5.1']],
    ['4.2x3', ['4.2', '4.2', '4.2']],
    ['_x2 7', ['_', '_', '7']],
    ['4+0.5x3', ['4', '4.5', '5']],
    ['5-0.5x3', ['5', '4.5', '4']],
    ['1+0.1x4', ['1', '1.1', '1.2', '1.3']],
    ['-1.5 +2 .5 1e3', ['-1.5', '2', '0.5', '1000']],
    ['4.3@2024-04 4.4', ['4.3@2024-04', '4.4']],
    ['3.1x2@2024-Q3', ['3.1@2024-Q3', '3.1@2024-Q3']],
    ['1.7@2024-04-22', ['1.7@2024-04-22']],
    ['  3.5\n\t4.2  ', ['3.5', '4.2']],
  ])('expands %j', (text, values) => {
    expect(expand(text)).toEqual(values);
  });

  it('counts xN as the number of periods written, unlike promtool', () => {
    expect(expand('1x3')).toHaveLength(3);
    expect(expand('1+1x3')).toEqual(['1', '2', '3']);
  });

  it.each([
    ['3.5 4,2', '4: "4,2" is not a value: write a number, _ for a missing period, VxN, A+BxN, A-BxN or _xN'],
    ['1+0.5', '0: "1+0.5" has an increment but no count: write 1+0.5x<periods>'],
    ['3 4x0', '2: x0: a count must be at least 1'],
    ['1x601', '0: x601: at most 600 periods in one token'],
    ['4.2@2024-13', '4: "2024-13" is neither a period (2024-06, 2024-Q2) nor a day (2024-07-20)'],
    ['_@2024-04', '0: a missing period arrives at no step: drop "@2024-04"'],
    ['   ', '0: no values: write at least one value or _'],
  ])('rejects %j at the offending token', (text, message) => {
    expect(failure(parseSeriesValues(text))).toBe(message);
  });

  it('reads back any list of values and gaps written one token each', () => {
    const item = fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), {
      nil: null,
    });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 30 }), (values) => {
        const text = values.map((v) => (v === null ? '_' : String(v))).join(' ');
        const parsed = parseSeriesValues(text);
        expect(parsed.ok && parsed.value.map((p) => p.value)).toEqual(
          values.map((v) => (Object.is(v, -0) ? 0 : v)),
        );
      }),
    );
  });
});

describe(parsePeriodList.name, () => {
  it('expands ranges of one frequency and keeps late arrivals', () => {
    const parsed = parsePeriodList('2023-11..2024-02 2024-Q1@2024-05-06');
    expect(
      parsed.ok && parsed.value.map((e) => `${e.period}${e.arrives ? `@${e.arrives.kind}` : ''}`),
    ).toEqual(['2023-11', '2023-12', '2024-01', '2024-02', '2024-Q1@day']);
  });

  it.each([
    ['2024-01 2024-13', '8: "2024-13" is not a period such as 2024-06 or 2024-Q2'],
    ['2024-01..2024-Q2', '0: 2024-01..2024-Q2: a range runs over periods of one frequency'],
    ['2024-03..2024-01', '0: 2024-03..2024-01: the range ends before it starts'],
    ['2024-01..2024-x', '9: "2024-x" is not a period such as 2024-06 or 2024-Q2'],
  ])('rejects %j', (text, message) => {
    expect(failure(parsePeriodList(text))).toBe(message);
  });
});

describe(parseStepRef.name, () => {
  it('reads periods and calendar days, and nothing else', () => {
    expect(parseStepRef('2024-06')).toEqual({ kind: 'period', period: '2024-06' });
    expect(parseStepRef('2024-Q2')).toEqual({ kind: 'period', period: '2024-Q2' });
    expect(parseStepRef('2024-02-29')).toEqual({ kind: 'day', day: '2024-02-29' });
    expect(parseStepRef('2023-02-29')).toBeUndefined();
    expect(parseStepRef('2024-6')).toBeUndefined();
  });
});
