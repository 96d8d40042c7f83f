import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from '../../../src/notify/backoff.js';

const OPTIONS = { baseDelayMs: 30_000, maxDelayMs: 6 * 3600_000 };

describe(backoffDelayMs.name, () => {
  it.each([
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [10, 15_360_000],
    [11, 21_600_000], // capped at 6 h
    [1000, 21_600_000],
  ])('caps retry %i at %i ms', (attempt, ceiling) => {
    expect(backoffDelayMs(attempt, OPTIONS, () => 0.999_999_9)).toBe(Math.floor(0.999_999_9 * ceiling));
  });

  it('scales the ceiling by the random draw (full jitter)', () => {
    expect(backoffDelayMs(3, OPTIONS, () => 0)).toBe(0);
    expect(backoffDelayMs(3, OPTIONS, () => 0.5)).toBe(60_000);
    expect(backoffDelayMs(3, OPTIONS, () => 0.25)).toBe(30_000);
  });

  it('stays within [0, ceiling] even for a misbehaving random source', () => {
    expect(backoffDelayMs(1, OPTIONS, () => 7)).toBe(30_000);
    expect(backoffDelayMs(1, OPTIONS, () => -1)).toBe(0);
    expect(backoffDelayMs(0, OPTIONS, () => 0.5)).toBe(15_000);
  });

  it('uses Math.random by default', () => {
    const delay = backoffDelayMs(2, OPTIONS);
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThan(60_000);
  });
});
