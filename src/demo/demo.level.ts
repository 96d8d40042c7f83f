import { mustParsePeriod } from '../catalog/period.js';
import type { Path } from './demo.institutions.js';
import { signedNoise } from './demo.random.js';

/** Where a period stands: `k` months before the final month, and the drift share reached there. */
export interface Step {
  readonly period: string;
  readonly k: number;
  readonly drift: number;
}

/** Rounds to two decimals, as filings carry 万元 and percentages. */
export const round2 = (x: number) => Math.round(x * 100) / 100;

/** A path's level `k` months before the end, with the given drift share and a wobble fixed by `key`. */
export function level(path: Path, k: number, drift: number, key: string): number {
  return (
    path.base -
    ((path.perYear ?? 0) * k) / 12 +
    (path.drift ?? 0) * drift +
    (path.noise ?? 0) * signedNoise(key)
  );
}

/** A path's level at a step, its wobble keyed by institution, name and period. */
export function at(path: Path, s: Step, code: string, name: string): number {
  return level(path, s.k, s.drift, `${code}:${name}:${s.period}`);
}

/** The month of the year (1–12) of a monthly period: how far year-to-date flows have run. */
export function monthOfYear(period: string): number {
  return mustParsePeriod(period).index;
}
