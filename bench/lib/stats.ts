/** Small statistics and timing helpers for the benchmarks. */

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile (0–1) with linear interpolation between closest ranks. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Formats a number with a fixed count of significant figures and thousands separators. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  const rounded = Number(value.toFixed(decimals));
  return rounded.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

/** A rate per second from a count and a duration in milliseconds. */
export function perSecond(count: number, ms: number): number {
  return (count * 1000) / ms;
}

/** A markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One measured case: `setup` is untimed, `body` is timed. */
export interface TimedCase {
  readonly setup: () => Promise<unknown> | unknown;
  readonly body: () => Promise<unknown> | unknown;
}

/**
 * Times several cases in interleaved rounds (one untimed warm-up round, then `runs` timed ones, the
 * case order rotating each round), so that load from elsewhere on the machine hits every case alike
 * and their ratios stay meaningful. Returns the durations in milliseconds, per case.
 */
export async function timeInterleaved(runs: number, cases: readonly TimedCase[]): Promise<number[][]> {
  const durations = cases.map((): number[] => []);
  for (let round = -1; round < runs; round++) {
    for (let k = 0; k < cases.length; k++) {
      const index = (k + Math.max(round, 0)) % cases.length;
      const c = cases[index] as TimedCase;
      await c.setup();
      const started = performance.now();
      await c.body();
      if (round >= 0) durations[index]?.push(performance.now() - started);
    }
  }
  return durations;
}
