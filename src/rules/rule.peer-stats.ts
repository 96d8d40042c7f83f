/** 1 / Φ⁻¹(3/4): scales the MAD to estimate a normal distribution's standard deviation. */
export const MAD_SCALE = 1.4826;
/** √(π/2): scales the mean absolute deviation likewise; used when the MAD is 0. */
export const MEAN_AD_SCALE = 1.253314;

/** The statistics of one peer group: the institutions of one type with a value in one period. */
export interface PeerGroup {
  readonly type: string;
  readonly period: string;
  /** The group's values, ascending (the judged institution's among them). */
  readonly sorted: Float64Array;
  readonly median: number;
  /** Median of |xᵢ − median|, unscaled. */
  readonly mad: number;
  /** Mean of |xᵢ − median|. */
  readonly meanAd: number;
  /** What a robust z divides by: 1.4826 × MAD, else 1.253314 × MeanAD when the MAD is 0, else nothing. */
  readonly spread: { readonly basis: 'mad' | 'mean_ad' | 'none'; readonly value: number };
}

/**
 * The statistics of a group of values (copied; `scratch` is working space of at least their length, so
 * one buffer serves every group of a rule). Median of an even count: the mean of the two middle values,
 * as PostgreSQL's `percentile_cont(0.5)` gives it.
 */
export function peerGroup(
  type: string,
  period: string,
  values: ArrayLike<number>,
  scratch: Float64Array = new Float64Array(values.length),
): PeerGroup {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  const median = medianOf(sorted);
  const deviations = scratch.subarray(0, n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const d = Math.abs((sorted[i] as number) - median);
    deviations[i] = d;
    total += d;
  }
  const mad = medianOf(deviations.sort());
  const meanAd = n === 0 ? 0 : total / n;
  const spread =
    mad > 0
      ? { basis: 'mad' as const, value: MAD_SCALE * mad }
      : meanAd > 0
        ? { basis: 'mean_ad' as const, value: MEAN_AD_SCALE * meanAd }
        : { basis: 'none' as const, value: 0 };
  return { type, period, sorted, median, mad, meanAd, spread };
}

function medianOf(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The robust z-score of `x` in its group: `(x − median) / (1.4826 × MAD)`; when the MAD is 0 (more than
 * half the group shares one value, common in small groups), `(x − median) / (1.253314 × MeanAD)`; when
 * that is 0 too, every value is the median and z is 0.
 */
export function robustZ(group: PeerGroup, x: number): number {
  return group.spread.value > 0 ? (x - group.median) / group.spread.value : 0;
}

/**
 * The percentile rank of `x` in its group, `100 × (below + equal / 2) / n`: values below it count
 * whole, values equal to it (itself included) half — the mid-rank definition, so ties share one rank and
 * the ranks of a group average 50. With n values it ranges from 50 / n to 100 − 50 / n.
 */
export function percentileRank(group: PeerGroup, x: number): { rank: number; below: number; equal: number } {
  const below = lowerBound(group.sorted, x);
  const equal = lowerBound(group.sorted, x, true) - below;
  return { rank: (100 * (below + equal / 2)) / group.sorted.length, below, equal };
}

/** The percentile rank of `x` alone, as {@link percentileRank} gives it, without a result object. */
export function percentileOf(group: PeerGroup, x: number): number {
  const below = lowerBound(group.sorted, x);
  return (100 * (below + (lowerBound(group.sorted, x, true) - below) / 2)) / group.sorted.length;
}

/** The first index whose value is `>= x` (or `> x` when `after`). */
function lowerBound(sorted: Float64Array, x: number, after = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid] as number;
    if (after ? v <= x : v < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
