import { describe, expect, it } from 'vitest';
import { formatPeriod } from '../../../src/catalog/period.js';
import { readPeriod } from '../../../src/ingest/cell.text.js';

const read = (text: string) => {
  const p = readPeriod(text);
  return p ? formatPeriod(p) : undefined;
};

describe(readPeriod.name, () => {
  it.each([
    ['2024-06', '2024-06'],
    ['2024-Q2', '2024-Q2'],
    ['202406', '2024-06'],
    ['2024年6月', '2024-06'],
    ['2024年06月末', '2024-06'],
    ['2024Q2', '2024-Q2'],
    ['2024q4', '2024-Q4'],
    ['2024年第二季度', '2024-Q2'],
    ['2024年4季度', '2024-Q4'],
    ['2024-06-30', '2024-06'],
    ['2024/6/30', '2024-06'],
    ['2024-06-01', '2024-06'],
    ['2024-02-29', '2024-02'],
  ])('reads %s as %s', (text, period) => {
    expect(read(text)).toBe(period);
  });

  it.each([
    '2024-06-15',
    '2023-02-29',
    '2024-13',
    '202413',
    '2024年13月',
    '2024Q5',
    '24-06',
    'June 2024',
    '',
  ])('refuses %s', (text) => {
    expect(read(text)).toBeUndefined();
  });
});
